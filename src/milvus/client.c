/* client.c - requests to Milvus's REST API: one POST or GET of JSON, its
 * envelope checked, retried when it may pass (see milvus.h). */
#include "milvus/milvus_internal.h"
#include "base/str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define URI_MAX 512
#define BODY_LIMIT ((size_t)256 << 20) /* a search of 16384 rows with fields fits */

struct mv_client {
    char uri[URI_MAX];          /* no trailing '/' */
    char auth[1100];            /* "Authorization: Bearer ..." or "" */
    char db[MV_NAME_MAX];
    mv_dialect dialect;
    long timeout_ms, connect_timeout_ms;
    int retries;
    net_pool *pool;
};

mv_dialect mv_get_dialect(const mv_client *c) { return c->dialect; }
const char *mv_uri(const mv_client *c) { return c->uri; }
long mv_timeout_ms(const mv_client *c) { return c->timeout_ms; }
const char *mv__db(const mv_client *c) { return c->db; }

/* The envelope's verdict: 0 for success (v1 code 200, v2 code 0), else
 * -1 with Milvus's code and message. */
static int envelope(const char *uri, const char *path, json_t *doc, ds_err *err)
{
    json_t *code = json_object_get(doc, "code");
    if (!json_is_object(doc) || !json_is_integer(code))
        return ds_fail(err, DS_EFORMAT, "Milvus at %s: %s: the answer is not Milvus's JSON "
                       "(no \"code\")", uri, path);
    json_int_t v = json_integer_value(code);
    if (v == 0 || v == 200)
        return 0;
    const char *msg = json_string_value(json_object_get(doc, "message"));
    char clean[600];
    size_t o = 0;
    for (const char *p = msg ? msg : ""; *p && o + 1 < sizeof clean; p++)
        clean[o++] = (*p >= 0x20 && *p < 0x7f) ? *p : ' ';
    clean[o] = '\0';
    /* 100 (2.3) and 100/"collection not found" (2.4+): no such collection.
     * 101 "collection not loaded", and a server not ready: Milvus is there
     * but cannot serve yet (it loads its collections again after a
     * restart), which callers treat as out of reach for now (DS_ENET: the
     * API answers 503, an import waits for it). */
    ds_code dc = (v == 100 || strstr(clean, "collection not found") ||
                  strstr(clean, "can't find collection"))
                     ? DS_ENOTFOUND
                 : (v == 101 || strstr(clean, "not loaded") || strstr(clean, "not ready") ||
                    strstr(clean, "service unavailable"))
                     ? DS_ENET
                     : DS_EIO;
    return ds_fail(err, dc, "Milvus at %s: %s: %s (code %lld)", uri, path,
                   *clean ? clean : "refused", (long long)v);
}

int mv__answer(const char *uri, const char *path, const char *text, size_t len, json_t **out,
               ds_err *err)
{
    json_error_t je;
    *out = NULL;
    json_t *doc = json_loadb(text ? text : "", len, 0, &je);
    if (!doc)
        return ds_fail(err, DS_EFORMAT, "Milvus at %s: %s: the answer is not JSON (%s)", uri,
                       path, je.text);
    if (envelope(uri, path, doc, err) != 0) {
        json_decref(doc);
        return -1;
    }
    *out = doc;
    return 0;
}

/* One attempt of a request: 0 with *cc and *status set, -1 when no handle
 * or headers could be had (DS_ENOMEM in err). once: on a connection of its
 * own, closed after it (see mv__call_once); *sent: whether any byte of the
 * request left (0: it surely never reached the server). */
static int perform(mv_client *c, const char *url, const char *text, int once, net_buf *resp,
                   char *errbuf, CURLcode *cc, long *status, int *sent, ds_err *err)
{
    CURL *h = net_take(c->pool);
    struct curl_slist *hdr = NULL;
    if (!h || !(hdr = curl_slist_append(NULL, "Content-Type: application/json")) ||
        (*c->auth && !curl_slist_append(hdr, c->auth))) {
        curl_slist_free_all(hdr);
        net_give(c->pool, h);
        return ds_fail(err, DS_ENOMEM, "out of memory");
    }
    net_buf_reset(resp);
    errbuf[0] = '\0';
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, net_buf_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
    if (once) {
        /* libcurl sends a request again, by itself, when a reused
         * connection dies before any byte of the answer: on a connection
         * of its own there is nothing to reuse, so it is sent once. */
        curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
        curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
    }
    if (text) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, text);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(text));
    }
    *cc = curl_easy_perform(h);
    *status = 0;
    long request_bytes = 0;
    curl_easy_getinfo(h, CURLINFO_REQUEST_SIZE, &request_bytes);
    *sent = request_bytes > 0;
    if (*cc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    curl_slist_free_all(hdr);
    if (*cc == CURLE_OK)
        net_give(c->pool, h);
    else
        curl_easy_cleanup(h);
    return 0;
}

/* The error of a failed attempt (no transfer, or an HTTP status not 200). */
static int failure(mv_client *c, const char *path, CURLcode cc, long status, const net_buf *resp,
                   const char *errbuf, int retried, ds_err *err)
{
    if (cc != CURLE_OK)
        return ds_fail(err, resp->over ? DS_ETOOBIG : DS_ENET, "Milvus at %s: %s: %s%s", c->uri,
                       path, resp->over ? "answer too large" : net_curl_message(cc, errbuf),
                       retried ? " (after retries)" : "");
    return ds_fail(err, status == 404 ? DS_ENOTFOUND
                        : net_retryable(CURLE_OK, status) ? DS_ENET : DS_EIO,
                   "Milvus at %s: %s: HTTP %ld", c->uri, path, status);
}

/* The request's JSON text (NULL for a GET) and URL. */
static int prepare(mv_client *c, const char *path, json_t *body, char *url, size_t url_size,
                   char **text, ds_err *err)
{
    if (ds_snprintf(url, url_size, err, "%s%s", c->uri, path) != 0)
        return ds_wrap(err, "Milvus request URL: ");
    *text = NULL;
    if (body && !(*text = json_dumps(body, JSON_COMPACT)))
        return ds_fail(err, DS_ENOMEM, "out of memory");
    return 0;
}

int mv__call(mv_client *c, const char *path, json_t *body, json_t **out, long *status,
             int retries, ds_err *err)
{
    char url[URI_MAX + 256], errbuf[CURL_ERROR_SIZE];
    char *text;
    *out = NULL;
    *status = 0;
    if (prepare(c, path, body, url, sizeof url, &text, err) != 0)
        return -1;
    if (retries < 0)
        retries = c->retries;
    net_buf resp = {.limit = BODY_LIMIT};
    int rc = -1, sent;
    for (int attempt = 1;; attempt++) {
        CURLcode cc;
        if (perform(c, url, text, 0, &resp, errbuf, &cc, status, &sent, err) != 0)
            break;
        if (cc == CURLE_OK && *status == 200) {
            rc = mv__answer(c->uri, path, resp.data, resp.len, out, err);
            break;
        }
        if (attempt > retries || !net_retryable(cc, *status) || resp.over || resp.nomem) {
            failure(c, path, cc, *status, &resp, errbuf, attempt > 1, err);
            break;
        }
        net_sleep_ms(net_backoff_ms(attempt, 100, 2000));
    }
    net_buf_free(&resp);
    free(text);
    return rc;
}

int mv__call_once(mv_client *c, const char *path, json_t *body, json_t **out, int *maybe_done,
                  ds_err *err)
{
    char url[URI_MAX + 256], errbuf[CURL_ERROR_SIZE];
    char *text;
    *out = NULL;
    *maybe_done = 0;
    if (prepare(c, path, body, url, sizeof url, &text, err) != 0)
        return -1;
    net_buf resp = {.limit = BODY_LIMIT};
    CURLcode cc;
    long status = 0;
    int rc = -1, sent = 0;
    if (perform(c, url, text, 1, &resp, errbuf, &cc, &status, &sent, err) == 0) {
        if (cc == CURLE_OK && status == 200)
            rc = mv__answer(c->uri, path, resp.data, resp.len, out, err);
        else
            failure(c, path, cc, status, &resp, errbuf, 0, err);
        /* Sent, and no answer of Milvus's own: a timeout, a connection
         * that died, or a gateway's 5xx may each hide a request Milvus
         * took. Milvus's JSON (rc == 0 or its refusal) settles it. */
        *maybe_done = rc != 0 && sent && (cc != CURLE_OK || status >= 500);
    }
    net_buf_free(&resp);
    free(text);
    return rc;
}

/* Both dialects answer the list with "data": [names...]. */
static int list_call(mv_client *c, int retries, json_t **names, ds_err *err)
{
    json_t *out = NULL, *body = NULL;
    long status;
    int rc;
    if (c->dialect == MV_V2) {
        body = json_pack("{s:s}", "dbName", c->db);
        rc = mv__call(c, "/v2/vectordb/collections/list", body, &out, &status, retries, err);
    } else {
        rc = mv__call(c, "/v1/vector/collections", NULL, &out, &status, retries, err);
    }
    json_decref(body);
    if (rc == 0 && names)
        *names = mv__parse_names(out);
    json_decref(out);
    return rc;
}

json_t *mv__parse_names(json_t *doc)
{
    json_t *data = json_object_get(doc, "data"), *names = json_array(), *v;
    size_t i;
    json_array_foreach(data, i, v)
        if (json_is_string(v))
            json_array_append(names, v);
    return names;
}

int mv_ping(mv_client *c, ds_err *err) { return list_call(c, 0, NULL, err); }

int mv_list(mv_client *c, json_t **names, ds_err *err)
{
    *names = NULL;
    return list_call(c, -1, names, err);
}

int mv_open(const mv_config *cfg, mv_client **out, ds_err *err)
{
    *out = NULL;
    if (!cfg || !cfg->uri || !*cfg->uri)
        return ds_fail(err, DS_EINVAL, "Milvus: no URI (--milvus-uri http://HOST:19530)");
    if (strncmp(cfg->uri, "http://", 7) != 0 && strncmp(cfg->uri, "https://", 8) != 0)
        return ds_fail(err, DS_EINVAL, "Milvus URI \"%s\": expected http://HOST:PORT or "
                       "https://HOST:PORT", cfg->uri);
    size_t ul = strlen(cfg->uri);
    while (ul && cfg->uri[ul - 1] == '/')
        ul--;
    if (ul >= URI_MAX || memchr(cfg->uri, '@', ul) || memchr(cfg->uri, '?', ul))
        return ds_fail(err, DS_EINVAL, "Milvus URI: too long, or with credentials or a "
                       "query (give the token with --milvus-token)");
    mv_client *c = calloc(1, sizeof *c);
    if (!c)
        return ds_fail(err, DS_ENOMEM, "out of memory");
    memcpy(c->uri, cfg->uri, ul);
    /* A cut database name would be another database. */
    const char *db = cfg->db && *cfg->db ? cfg->db : "default";
    if (ds_snprintf(c->db, sizeof c->db, err, "%s", db) != 0) {
        free(c);
        return ds_wrap(err, "Milvus database name: ");
    }
    if (cfg->token && *cfg->token &&
        (strpbrk(cfg->token, "\r\n") ||
         snprintf(c->auth, sizeof c->auth, "Authorization: Bearer %s", cfg->token) >=
             (int)sizeof c->auth)) {
        free(c);
        return ds_fail(err, DS_EINVAL, "Milvus token: malformed or too long");
    }
    c->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 10000;
    c->connect_timeout_ms = cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : 3000;
    c->retries = cfg->retries > 0 ? cfg->retries : cfg->retries < 0 ? 0 : 3;
    if (!(c->pool = net_pool_new(16, err))) {
        free(c);
        return -1;
    }
    c->dialect = cfg->dialect;
    if (c->dialect == MV_AUTO) {
        /* v2 when the server has it; a 404 for the route means 2.3 (v1). */
        json_t *body = json_pack("{s:s}", "dbName", c->db), *doc = NULL;
        long status = 0;
        ds_err probe = {0};
        int rc = mv__call(c, "/v2/vectordb/collections/list", body, &doc, &status, -1, &probe);
        json_decref(body);
        json_decref(doc);
        if (rc == 0) {
            c->dialect = MV_V2;
        } else if (status == 404) {
            c->dialect = MV_V1;
            if (mv_ping(c, err) != 0) {
                mv_close(c);
                return -1;
            }
        } else {
            *err = probe;
            mv_close(c);
            return -1;
        }
    }
    *out = c;
    return 0;
}

void mv_close(mv_client *c)
{
    if (!c)
        return;
    net_pool_free(c->pool);
    memset(c->auth, 0, sizeof c->auth);
    free(c);
}
