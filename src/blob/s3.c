/* s3.c - the S3 blob store (MinIO, SeaweedFS, AWS), over libcurl.
 *
 * The blob "a/b.jpg" is the object PREFIX/a/b.jpg of the bucket. Requests
 * are signed with AWS Signature V4 by libcurl itself (CURLOPT_AWS_SIGV4);
 * every request carries x-amz-content-sha256, the signed hash of its body,
 * which AWS requires and which lets the server refuse a body damaged in
 * transit.
 *
 * Integrity: a put also stores the sha256 as the object's metadata
 * (x-amz-meta-sha256). That is the blob's etag, so the S3 store and the
 * directory store give the same etag for the same content, and a get checks
 * the bytes against it (DS_ECHECKSUM when they differ). Objects written by
 * other tools (the seed system's MinIO uploads) have no such metadata: their
 * etag is the server's ETag and they are not checked.
 *
 * Uploads stream from the caller's buffer (a read callback, no copy).
 * Atomicity is S3's own: a PUT replaces an object whole or not at all.
 *
 * Failures that may pass (no connection, a timeout, 408, 429, 5xx) are
 * retried with jittered exponential backoff (net.h); each attempt has a time
 * limit, so no call hangs on a stalled server. After the last attempt the
 * error is DS_ENET and names the store, the operation and the key.
 *
 * Handles are pooled (net.h): kept-alive connections, reused across threads.
 */
#include "blob/blob_internal.h"
#include "blob/s3_xml.h"

#include <ctype.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/str.h"
#include "base/sha256.h"
#include "net/net.h"

#define URL_CAP (3 * BLOB_KEY_MAX + 1024)
#define GET_LIMIT ((size_t)2 << 30) /* a blob larger than 2 GiB is not read whole */
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

typedef struct s3_store {
    blob_store base;            /* first: an s3_store * is a blob_store * */
    char origin[512];           /* scheme://host[:port] of the requests */
    char bucket[64];
    char prefix[BLOB_KEY_MAX];  /* "" or "some/prefix/" */
    int virtual_host;
    char region[64];
    char sigv4[128];            /* "aws:amz:REGION:s3", "" when unsigned */
    char userpwd[1024];         /* "ACCESS:SECRET" for curl; never printed */
    char token_header[2200];    /* "x-amz-security-token: ..." or "" */
    char name[BLOB_KEY_MAX + 700]; /* "S3 s3://bucket/prefix at origin", for messages */
    long timeout_ms, connect_timeout_ms;
    int retries;
    atomic_int bucket_ready;    /* the bucket is known to exist */
    net_pool *pool;
} s3_store;

/* ---- one request ------------------------------------------------------------ */

/* What the response headers said. */
typedef struct s3_headers {
    long long length;           /* Content-Length, -1 when absent */
    char etag[BLOB_ETAG_MAX];
    char sha256[DS_SHA256_HEXLEN + 1]; /* x-amz-meta-sha256 */
    char content_type[BLOB_CTYPE_MAX];
    int64_t mtime;
} s3_headers;

typedef struct s3_call {
    const char *method;         /* "GET", "PUT", "HEAD", "DELETE" */
    const char *key;            /* a blob key (the prefix is added), or NULL: the bucket */
    const char *query;          /* canonical query string (sorted, encoded) or NULL */
    const void *body;           /* PUT: the body */
    size_t body_len;
    const char *body_sha256;    /* its hex sha256 (NULL: the empty body's) */
    const char *content_type;
    int retries;                /* -1: the store's */
    size_t limit;               /* largest response body accepted (0: net's default) */
    /* results */
    long status;
    net_buf resp;
    s3_headers hdr;
} s3_call;

/* The upload's cursor, rewound by curl when it must send the body again. */
typedef struct upload {
    const char *data;
    size_t len, pos;
} upload;

static size_t read_body(char *buf, size_t size, size_t n, void *ctx)
{
    upload *u = ctx;
    size_t left = u->len - u->pos, want = size * n;
    if (want > left)
        want = left;
    memcpy(buf, u->data + u->pos, want);
    u->pos += want;
    return want;
}

static int seek_body(void *ctx, curl_off_t offset, int origin)
{
    upload *u = ctx;
    if (origin != SEEK_SET || offset < 0 || (size_t)offset > u->len)
        return CURL_SEEKFUNC_CANTSEEK;
    u->pos = (size_t)offset;
    return CURL_SEEKFUNC_OK;
}

/* Copy a header value, trimmed and without quotes, printable only. */
static void header_value(char *dst, size_t n, const char *v, size_t len)
{
    while (len && (*v == ' ' || *v == '\t'))
        v++, len--;
    while (len && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
        len--;
    if (len >= 2 && v[0] == '"' && v[len - 1] == '"')
        v++, len -= 2;
    size_t o = 0;
    for (size_t i = 0; i < len && o + 1 < n; i++)
        dst[o++] = (v[i] >= 0x20 && v[i] < 0x7f) ? v[i] : '?';
    dst[o] = '\0';
}

static int header_is(const char *line, size_t len, const char *name, const char **value,
                     size_t *vlen)
{
    size_t nl = strlen(name);
    if (len <= nl || line[nl] != ':' || strncasecmp(line, name, nl) != 0)
        return 0;
    *value = line + nl + 1;
    *vlen = len - nl - 1;
    return 1;
}

static size_t on_header(char *line, size_t size, size_t n, void *ctx)
{
    s3_headers *h = ctx;
    size_t len = size * n, vlen;
    const char *v;
    char tmp[128];
    if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) { /* a new response (after 100) */
        memset(h, 0, sizeof *h);
        h->length = -1;
    } else if (header_is(line, len, "content-length", &v, &vlen)) {
        header_value(tmp, sizeof tmp, v, vlen);
        char *end;
        long long x = strtoll(tmp, &end, 10);
        h->length = (*tmp && !*end && x >= 0) ? x : -1;
    } else if (header_is(line, len, "etag", &v, &vlen)) {
        header_value(h->etag, sizeof h->etag, v, vlen);
    } else if (header_is(line, len, "x-amz-meta-sha256", &v, &vlen)) {
        header_value(h->sha256, sizeof h->sha256, v, vlen);
    } else if (header_is(line, len, "content-type", &v, &vlen)) {
        header_value(h->content_type, sizeof h->content_type, v, vlen);
    } else if (header_is(line, len, "last-modified", &v, &vlen)) {
        header_value(tmp, sizeof tmp, v, vlen);
        time_t t = curl_getdate(tmp, NULL);
        h->mtime = t > 0 ? (int64_t)t : 0;
    }
    return len;
}

/* The request URL: origin, then the bucket (path-style), the encoded object
 * name and the query. */
static int build_url(const s3_store *s, const s3_call *c, char *url, size_t n, ds_err *err)
{
    char object[BLOB_KEY_MAX * 2 + 2], enc[3 * sizeof object];
    if (ds_snprintf(object, sizeof object, err, "%s%s", c->key ? s->prefix : "",
                    c->key ? c->key : "") != 0)
        return ds_wrap(err, "%s: object name: ", s->name);
    if (net_uri_encode(object, 1, enc, sizeof enc) < 0)
        return ds_fail(err, DS_EINVAL, "%s: key too long", s->name);
    int len = s->virtual_host
                  ? snprintf(url, n, "%s/%s%s%s", s->origin, enc, c->query ? "?" : "",
                             c->query ? c->query : "")
                  : snprintf(url, n, "%s/%s%s%s%s%s", s->origin, s->bucket, *enc ? "/" : "",
                             enc, c->query ? "?" : "", c->query ? c->query : "");
    if (len < 0 || (size_t)len >= n)
        return ds_fail(err, DS_EINVAL, "%s: request URL too long", s->name);
    return 0;
}

/* Set up h for one attempt of c. */
static int setup(s3_store *s, CURL *h, s3_call *c, const char *url, upload *up,
                 struct curl_slist **headers, char *errbuf)
{
    char line[256];
    struct curl_slist *l = NULL;
    snprintf(line, sizeof line, "x-amz-content-sha256: %s",
             c->body_sha256 ? c->body_sha256 : EMPTY_SHA256);
    l = curl_slist_append(l, line);
    if (c->body_sha256) {
        snprintf(line, sizeof line, "x-amz-meta-sha256: %s", c->body_sha256);
        l = curl_slist_append(l, line);
    }
    if (c->content_type) {
        snprintf(line, sizeof line, "Content-Type: %s", c->content_type);
        l = curl_slist_append(l, line);
    }
    if (*s->token_header)
        l = curl_slist_append(l, s->token_header);
    /* No "Expect:" override: libcurl 7.88 would sign the emptied header
     * and the server would refuse the signature. */
    if (!l)
        return -1;
    *headers = l;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, l);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, s->connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, s->timeout_ms + (long)(c->body_len / 1024));
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, net_buf_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &c->resp);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &c->hdr);
    if (*s->sigv4) {
        curl_easy_setopt(h, CURLOPT_AWS_SIGV4, s->sigv4);
        curl_easy_setopt(h, CURLOPT_USERPWD, s->userpwd);
    }
    if (strcmp(c->method, "PUT") == 0) {
        *up = (upload){.data = c->body, .len = c->body_len};
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, read_body);
        curl_easy_setopt(h, CURLOPT_READDATA, up);
        curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, seek_body);
        curl_easy_setopt(h, CURLOPT_SEEKDATA, up);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)c->body_len);
    } else if (strcmp(c->method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (strcmp(c->method, "GET") != 0) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, c->method);
    }
    return 0;
}

/* What went wrong with a finished call, as an error. */
static int call_error(const s3_store *s, const s3_call *c, CURLcode cc, const char *errbuf,
                      int attempts, ds_err *err)
{
    const char *what = c->key ? c->key : s->bucket;
    if (cc != CURLE_OK) {
        if (c->resp.over)
            return ds_fail(err, DS_ETOOBIG, "%s: %s %s: the answer is larger than %zu bytes",
                           s->name, c->method, what, c->resp.limit);
        if (c->resp.nomem)
            return ds_fail(err, DS_ENOMEM, "%s: %s %s: out of memory", s->name, c->method, what);
        return ds_fail(err, DS_ENET, "%s: %s %s: %s%s", s->name, c->method, what,
                       net_curl_message(cc, errbuf),
                       attempts > 1 ? " (after retries)" : "");
    }
    char code[64], msg[256];
    s3_parse_error(c->resp.data, c->resp.len, code, sizeof code, msg, sizeof msg);
    ds_code dc = c->status == 404 ? DS_ENOTFOUND
                 : c->status == 400 || c->status == 411 ? DS_EINVAL
                 : net_retryable(CURLE_OK, c->status) ? DS_ENET : DS_EIO;
    return ds_fail(err, dc, "%s: %s %s: HTTP %ld%s%s%s%s%s", s->name, c->method, what,
                   c->status, *code ? " " : "", code, *msg ? " (" : "", msg, *msg ? ")" : "");
}

/* Run c, retrying what may pass. 0 when the server answered 2xx; else -1
 * with err (c->status tells the HTTP status, 0 for no answer). */
static int run(s3_store *s, s3_call *c, ds_err *err)
{
    char url[URL_CAP], errbuf[CURL_ERROR_SIZE];
    if (build_url(s, c, url, sizeof url, err) != 0)
        return -1;
    int retries = c->retries >= 0 ? c->retries : s->retries;
    c->resp.limit = c->limit;
    for (int attempt = 1;; attempt++) {
        CURL *h = net_take(s->pool);
        struct curl_slist *headers = NULL;
        upload up;
        errbuf[0] = '\0';
        net_buf_reset(&c->resp);
        memset(&c->hdr, 0, sizeof c->hdr);
        c->hdr.length = -1;
        c->status = 0;
        if (!h || setup(s, h, c, url, &up, &headers, errbuf) != 0) {
            curl_slist_free_all(headers);
            net_give(s->pool, h);
            return ds_fail(err, DS_ENOMEM, "%s: out of memory", s->name);
        }
        CURLcode cc = curl_easy_perform(h);
        if (cc == CURLE_OK)
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &c->status);
        curl_slist_free_all(headers);
        /* A handle whose transfer failed may hold a broken connection: do
         * not pool it. */
        if (cc == CURLE_OK)
            net_give(s->pool, h);
        else
            curl_easy_cleanup(h);
        if (cc == CURLE_OK && c->status >= 200 && c->status < 300)
            return 0;
        if (attempt > retries || !net_retryable(cc, c->status) || c->resp.over || c->resp.nomem)
            return call_error(s, c, cc, errbuf, attempt, err);
        net_sleep_ms(net_backoff_ms(attempt, 100, 3000));
    }
}

/* ---- the bucket -------------------------------------------------------------- */

/* Make sure the bucket exists: HEAD it, PUT it when absent. retries < 0:
 * the store's policy. */
static int ensure_bucket(s3_store *s, int retries, ds_err *err)
{
    if (atomic_load(&s->bucket_ready))
        return 0;
    s3_call c = {.method = "HEAD", .retries = retries};
    int rc = run(s, &c, err);
    if (rc != 0 && c.status == 404) {
        /* Outside us-east-1, AWS wants the region named in the body. */
        char body[256] = "";
        if (strcmp(s->region, "us-east-1") != 0)
            snprintf(body, sizeof body,
                     "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                     "<LocationConstraint>%s</LocationConstraint></CreateBucketConfiguration>",
                     s->region);
        uint8_t d[DS_SHA256_LEN];
        char hex[DS_SHA256_HEXLEN + 1];
        ds_sha256_buf(body, strlen(body), d);
        ds_sha256_hex(d, hex);
        net_buf_free(&c.resp);
        c = (s3_call){.method = "PUT", .body = body, .body_len = strlen(body),
                      .body_sha256 = hex, .retries = retries};
        rc = run(s, &c, err);
        /* Another process may have made it meanwhile. */
        if (rc != 0 && c.status == 409)
            rc = 0;
        if (rc != 0)
            ds_wrap(err, "creating the bucket: ");
    }
    net_buf_free(&c.resp);
    if (rc == 0)
        atomic_store(&s->bucket_ready, 1);
    return rc;
}

/* ---- the methods --------------------------------------------------------------- */

static void fill_info(const s3_headers *h, size_t size, blob_info *info)
{
    memset(info, 0, sizeof *info);
    info->size = size;
    info->mtime = h->mtime;
    snprintf(info->etag, sizeof info->etag, "%s", *h->sha256 ? h->sha256 : h->etag);
    snprintf(info->content_type, sizeof info->content_type, "%s",
             *h->content_type ? h->content_type : BLOB_DEFAULT_CTYPE);
}

static int s3_put(blob_store *bs, const char *key, const void *data, size_t len,
                  const char *content_type, ds_err *err)
{
    s3_store *s = (s3_store *)bs;
    if (ensure_bucket(s, -1, err) != 0)
        return -1;
    uint8_t d[DS_SHA256_LEN];
    char hex[DS_SHA256_HEXLEN + 1];
    ds_sha256_buf(data, len, d);
    ds_sha256_hex(d, hex);
    s3_call c = {.method = "PUT", .key = key, .body = data ? data : "", .body_len = len,
                 .body_sha256 = hex, .content_type = content_type, .retries = -1};
    int rc = run(s, &c, err);
    net_buf_free(&c.resp);
    return rc;
}

static int s3_get(blob_store *bs, const char *key, void **data, size_t *len, blob_info *info,
                  ds_err *err)
{
    s3_store *s = (s3_store *)bs;
    s3_call c = {.method = "GET", .key = key, .retries = -1, .limit = GET_LIMIT};
    if (run(s, &c, err) != 0) {
        net_buf_free(&c.resp);
        return -1;
    }
    if (c.hdr.length >= 0 && (size_t)c.hdr.length != c.resp.len) {
        net_buf_free(&c.resp);
        return ds_fail(err, DS_ENET, "%s: GET %s: %zu bytes where %lld were announced", s->name,
                       key, c.resp.len, c.hdr.length);
    }
    if (*c.hdr.sha256) {
        uint8_t d[DS_SHA256_LEN];
        char hex[DS_SHA256_HEXLEN + 1];
        ds_sha256_buf(c.resp.data, c.resp.len, d);
        ds_sha256_hex(d, hex);
        if (strcasecmp(hex, c.hdr.sha256) != 0) {
            net_buf_free(&c.resp);
            return ds_fail(err, DS_ECHECKSUM, "%s: GET %s: content does not match its sha256 "
                           "(stored %s, read %s)", s->name, key, c.hdr.sha256, hex);
        }
    }
    if (!c.resp.data && !(c.resp.data = calloc(1, 1)))
        return ds_fail(err, DS_ENOMEM, "out of memory");
    if (info)
        fill_info(&c.hdr, c.resp.len, info);
    *data = c.resp.data;
    *len = c.resp.len;
    return 0;
}

static int s3_head(blob_store *bs, const char *key, blob_info *info, ds_err *err)
{
    s3_store *s = (s3_store *)bs;
    s3_call c = {.method = "HEAD", .key = key, .retries = -1};
    int rc = run(s, &c, err);
    if (rc == 0)
        fill_info(&c.hdr, c.hdr.length > 0 ? (size_t)c.hdr.length : 0, info);
    net_buf_free(&c.resp);
    return rc;
}

/* S3 answers a DELETE of a missing key with 204 like any other; blob.h
 * promises DS_ENOTFOUND, so a HEAD asks first. */
static int s3_del(blob_store *bs, const char *key, ds_err *err)
{
    s3_store *s = (s3_store *)bs;
    blob_info info;
    if (s3_head(bs, key, &info, err) != 0)
        return -1;
    s3_call c = {.method = "DELETE", .key = key, .retries = -1};
    int rc = run(s, &c, err);
    net_buf_free(&c.resp);
    return rc;
}

static int s3_list(blob_store *bs, const char *prefix, blob_list_fn fn, void *ctx, ds_err *err)
{
    s3_store *s = (s3_store *)bs;
    char full[2 * BLOB_KEY_MAX + 2], enc_prefix[3 * sizeof full], *token = NULL;
    if (ds_snprintf(full, sizeof full, err, "%s%s", s->prefix, prefix) != 0)
        return ds_wrap(err, "%s: list prefix: ", s->name);
    if (net_uri_encode(full, 0, enc_prefix, sizeof enc_prefix) < 0)
        return ds_fail(err, DS_EINVAL, "%s: list prefix too long", s->name);
    size_t plen = strlen(s->prefix);
    int rc = 0, stop = 0;
    do {
        /* Query parameters in canonical (sorted) order, already encoded. */
        char query[3 * sizeof full + 2048], enc_token[1536] = "";
        if (token && net_uri_encode(token, 0, enc_token, sizeof enc_token) < 0) {
            rc = ds_fail(err, DS_EFORMAT, "%s: continuation token too long", s->name);
            break;
        }
        if (ds_snprintf(query, sizeof query, err, "%s%s%slist-type=2&prefix=%s",
                        token ? "continuation-token=" : "", token ? enc_token : "",
                        token ? "&" : "", enc_prefix) != 0) {
            rc = ds_wrap(err, "%s: list query: ", s->name);
            break;
        }
        s3_call c = {.method = "GET", .query = query, .retries = -1};
        s3_list_page page;
        if ((rc = run(s, &c, err)) == 0 &&
            (rc = s3_parse_list(c.resp.data, c.resp.len, &page, err)) == 0) {
            for (size_t i = 0; i < page.n && !stop; i++) {
                const char *key = page.objs[i].key;
                ds_err ignored;
                /* Objects under the prefix that no blob key can name (written
                 * by other tools) are not ours to list. */
                if (strncmp(key, s->prefix, plen) != 0 || blob_key_check(key + plen, &ignored) != 0)
                    continue;
                blob_info info = {.size = page.objs[i].size, .mtime = page.objs[i].mtime};
                stop = fn(ctx, key + plen, &info) != 0;
            }
            free(token);
            token = page.truncated ? page.next_token : NULL;
            page.next_token = NULL;
            s3_list_page_free(&page);
        }
        net_buf_free(&c.resp);
    } while (rc == 0 && token && !stop);
    free(token);
    return rc;
}

static void s3_free(blob_store *bs)
{
    s3_store *s = (s3_store *)bs;
    net_pool_free(s->pool);
    /* The secret does not outlive the store in freed memory. */
    memset(s->userpwd, 0, sizeof s->userpwd);
    memset(s->token_header, 0, sizeof s->token_header);
    free(s);
}

static const blob_methods s3_methods = {
    .version = 1,
    .name = "s3",
    .put = s3_put,
    .get = s3_get,
    .head = s3_head,
    .del = s3_del,
    .list = s3_list,
    .free = s3_free,
};

/* ---- opening --------------------------------------------------------------------- */

/* S3's bucket naming rules (the DNS-compatible ones, which every server takes). */
static int bucket_check(const char *b, size_t n, ds_err *err)
{
    if (n < 3 || n > 63)
        return ds_fail(err, DS_EINVAL, "S3 bucket name must be 3 to 63 characters");
    for (size_t i = 0; i < n; i++)
        if (!(islower((unsigned char)b[i]) || isdigit((unsigned char)b[i]) || b[i] == '-' ||
              b[i] == '.'))
            return ds_fail(err, DS_EINVAL, "S3 bucket name may hold only a-z, 0-9, '.' and '-'");
    if (!isalnum((unsigned char)b[0]) || !isalnum((unsigned char)b[n - 1]))
        return ds_fail(err, DS_EINVAL, "S3 bucket name must start and end with a letter or digit");
    return 0;
}

static const char *env_or(const char *v, const char *name)
{
    if (v && *v)
        return v;
    const char *e = getenv(name);
    return e && *e ? e : NULL;
}

/* Split "s3://bucket/prefix" into the store's bucket and prefix. */
static int parse_url(s3_store *s, const char *url, ds_err *err)
{
    if (strncmp(url, "s3://", 5) != 0)
        return ds_fail(err, DS_EINVAL, "S3 store \"%s\": expected s3://bucket[/prefix]", url);
    const char *b = url + 5, *slash = strchr(b, '/');
    size_t bl = slash ? (size_t)(slash - b) : strlen(b);
    if (bucket_check(b, bl, err) != 0)
        return ds_wrap(err, "S3 store \"%s\": ", url);
    memcpy(s->bucket, b, bl);
    s->bucket[bl] = '\0';
    if (slash) {
        char p[BLOB_KEY_MAX + 1];
        if (ds_snprintf(p, sizeof p, err, "%s", slash + 1) != 0)
            return ds_wrap(err, "S3 store: the prefix ");
        size_t pl = strlen(p);
        while (pl && p[pl - 1] == '/')
            p[--pl] = '\0';
        if (pl && (pl > BLOB_KEY_MAX - 256 || blob_key_check(p, err) != 0))
            return ds_fail(err, DS_EINVAL, "S3 store \"%s\": the prefix must be a valid key "
                           "of at most %d bytes", url, BLOB_KEY_MAX - 256);
        if (pl) {
            memcpy(s->prefix, p, pl);
            memcpy(s->prefix + pl, "/", 2);
        }
    }
    return 0;
}

/* The origin of requests: the endpoint (path-style or with the bucket as a
 * host label), or AWS's regional endpoint. */
static int set_origin(s3_store *s, const blob_s3_config *cfg, ds_err *err)
{
    const char *ep = cfg->endpoint && *cfg->endpoint ? cfg->endpoint : NULL;
    char aws[128];
    if (!ep) {
        snprintf(aws, sizeof aws, "https://s3.%s.amazonaws.com", s->region);
        ep = aws;
    }
    const char *host = strstr(ep, "://");
    if (!host || !(strncmp(ep, "http://", 7) == 0 || strncmp(ep, "https://", 8) == 0))
        return ds_fail(err, DS_EINVAL, "S3 endpoint \"%s\": expected http://HOST[:PORT] or "
                       "https://HOST[:PORT]", ep);
    host += 3;
    size_t hl = strcspn(host, "/?#");
    if (hl == 0 || host[hl] == '?' || host[hl] == '#' || (host[hl] == '/' && host[hl + 1]) ||
        memchr(host, '@', hl))
        return ds_fail(err, DS_EINVAL, "S3 endpoint \"%s\": give only scheme, host and port "
                       "(no path, no credentials)", ep);
    s->virtual_host = cfg->addressing == BLOB_S3_VIRTUAL ||
                      (cfg->addressing == BLOB_S3_AUTO && !(cfg->endpoint && *cfg->endpoint));
    int n = s->virtual_host
                ? snprintf(s->origin, sizeof s->origin, "%.*s%s.%.*s", (int)(host - ep), ep,
                           s->bucket, (int)hl, host)
                : snprintf(s->origin, sizeof s->origin, "%.*s", (int)(host - ep + hl), ep);
    if (n < 0 || (size_t)n >= sizeof s->origin)
        return ds_fail(err, DS_EINVAL, "S3 endpoint \"%s\": too long", ep);
    snprintf(s->name, sizeof s->name, "S3 s3://%s/%s at %.*s", s->bucket, s->prefix,
             (int)(host - ep + hl), ep);
    return 0;
}

/* Free a store that never got its pool, wiping what it learnt. */
static void s3_free_early(s3_store *s)
{
    memset(s, 0, sizeof *s);
    free(s);
}

int blob_s3_open(const char *url, const blob_s3_config *cfg_in, blob_store **out, ds_err *err)
{
    blob_s3_config none = {0};
    const blob_s3_config *cfg = cfg_in ? cfg_in : &none;
    *out = NULL;
    if (!url)
        return ds_fail(err, DS_EINVAL, "S3 store: no URL");
    s3_store *s = calloc(1, sizeof *s);
    if (!s)
        return ds_fail(err, DS_ENOMEM, "out of memory");
    s->base.m = &s3_methods;
    const char *region = env_or(cfg->region, "AWS_REGION");
    region = region ? region : env_or(NULL, "AWS_DEFAULT_REGION");
    if (ds_snprintf(s->region, sizeof s->region, err, "%s", region ? region : "us-east-1") != 0) {
        free(s); /* a cut region would be another region */
        return ds_wrap(err, "S3 region: ");
    }
    for (const char *p = s->region; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-') {
            free(s);
            return ds_fail(err, DS_EINVAL, "S3 region \"%s\": letters, digits and '-' only",
                           s->region);
        }
    if (parse_url(s, url, err) != 0 || set_origin(s, cfg, err) != 0) {
        free(s);
        return -1;
    }
    const char *ak = env_or(cfg->access_key, "AWS_ACCESS_KEY_ID");
    const char *sk = env_or(cfg->secret_key, "AWS_SECRET_ACCESS_KEY");
    const char *tok = env_or(cfg->session_token, "AWS_SESSION_TOKEN");
    if ((ak != NULL) != (sk != NULL)) {
        free(s);
        return ds_fail(err, DS_EINVAL, "S3 store: an access key needs its secret key (set both "
                       "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither)");
    }
    if (ak) {
        int bad = strchr(ak, ':') != NULL;
        bad |= snprintf(s->userpwd, sizeof s->userpwd, "%s:%s", ak, sk) >= (int)sizeof s->userpwd;
        bad |= tok && snprintf(s->token_header, sizeof s->token_header, "x-amz-security-token: %s",
                               tok) >= (int)sizeof s->token_header;
        if (bad) {
            s3_free_early(s);
            return ds_fail(err, DS_EINVAL, "S3 store: malformed or overlong credentials");
        }
        snprintf(s->sigv4, sizeof s->sigv4, "aws:amz:%s:s3", s->region);
    }
    s->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 10000;
    s->connect_timeout_ms = cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : 5000;
    s->retries = cfg->retries > 0 ? cfg->retries : cfg->retries < 0 ? 0 : 3;
    if (!(s->pool = net_pool_new(16, err))) {
        free(s);
        return -1;
    }
    /* One try now; when S3 cannot be reached the store still opens and the
     * first put tries again (see blob.h). A refusal is final. */
    ds_err first = {0};
    if (ensure_bucket(s, 0, &first) != 0 && first.code != DS_ENET) {
        *err = first;
        s3_free(&s->base);
        return -1;
    }
    *out = &s->base;
    return 0;
}
