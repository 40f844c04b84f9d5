/* test_s3.c - the S3 blob store against a real S3 server (SeaweedFS,
 * started by tests/peers/peers.py) and against servers that misbehave on
 * purpose (tests/peers/fault_server.py).
 *
 * The first test starts the server and the last stops it; when it cannot be
 * started (no network to install it), every test in between says so and
 * skips, and the suite passes.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../peers.h"
#include "../suites.h"
#include "base/sha256.h"
#include "blob/blob.h"

static ds_peer peer;

#define NEED_S3()                                                                    \
    do {                                                                             \
        if (!peer.up)                                                                \
            SKIP("no S3 server: %s", peer.why[0] ? peer.why : "not started");        \
    } while (0)

static blob_s3_config test_config(void)
{
    return (blob_s3_config){.endpoint = peer.endpoint, .access_key = peer.access_key,
                            .secret_key = peer.secret_key, .region = "us-east-1",
                            .timeout_ms = 10000};
}

/* A store on bucket/prefix of the test server; NULL (with a failed CHECK)
 * when it does not open. */
static blob_store *open_s3(const char *url)
{
    blob_s3_config c = test_config();
    blob_store *s = NULL;
    ds_err err = {0};
    CHECKF(blob_s3_open(url, &c, &s, &err) == 0, "%s: %s", url, err.msg);
    return s;
}

static void sha_hex(const void *d, size_t n, char hex[DS_SHA256_HEXLEN + 1])
{
    uint8_t dig[DS_SHA256_LEN];
    ds_sha256_buf(d, n, dig);
    ds_sha256_hex(dig, hex);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void test_start(void)
{
    if (ds_peer_start(&peer, "s3", "seaweedfs") != 0)
        SKIP("no S3 server could be started here: %s", peer.why);
    printf("    S3 server: SeaweedFS 4.48 at %s (a real server)\n", peer.endpoint);
}

static void test_round_trip(void)
{
    NEED_S3();
    blob_store *s = open_s3("s3://dinoseek-rt/some/prefix");
    if (!s)
        return;
    ds_err err = {0};
    CHECK(strcmp(blob_store_kind(s), "s3") == 0);
    const char *key = "originals/D0701016/USD0701016-20140318-D00001 (copy).TIF";
    CHECKF(blob_put(s, key, "abc", 3, "image/tiff", &err) == 0, "%s", err.msg);
    void *data = NULL;
    size_t n = 0;
    blob_info info;
    CHECKF(blob_get(s, key, &data, &n, &info, &err) == 0, "%s", err.msg);
    CHECK(n == 3 && data && memcmp(data, "abc", 4) == 0); /* NUL-terminated */
    /* The same etag as the directory store: the content's sha256. */
    CHECK(strcmp(info.etag, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0);
    CHECK(strcmp(info.content_type, "image/tiff") == 0);
    CHECK(info.size == 3 && info.mtime > 1600000000);
    free(data);
    blob_info h;
    CHECKF(blob_head(s, key, &h, &err) == 0, "%s", err.msg);
    CHECK(h.size == 3 && strcmp(h.etag, info.etag) == 0 && strcmp(h.content_type, "image/tiff") == 0);
    /* Empty blob, default content type. */
    CHECKF(blob_put(s, "empty", NULL, 0, NULL, &err) == 0, "%s", err.msg);
    CHECK(blob_get(s, "empty", &data, &n, &info, &err) == 0 && n == 0 && data);
    CHECK(strcmp(info.content_type, "application/octet-stream") == 0);
    free(data);
    /* A megabyte of binary, every byte value. */
    size_t big_n = 1 << 20;
    unsigned char *big = malloc(big_n);
    for (size_t i = 0; i < big_n; i++)
        big[i] = (unsigned char)(i * 7 + (i >> 11));
    CHECKF(blob_put(s, "big.bin", big, big_n, NULL, &err) == 0, "%s", err.msg);
    CHECK(blob_get(s, "big.bin", &data, &n, NULL, &err) == 0 && n == big_n &&
          memcmp(data, big, big_n) == 0);
    free(data);
    free(big);
    blob_free(s);
    /* Reopened (the bucket exists now), the blobs are there. */
    s = open_s3("s3://dinoseek-rt/some/prefix/");
    CHECK(s && blob_head(s, key, &h, &err) == 0 && h.size == 3);
    blob_free(s);
}

static void test_overwrite_delete_missing(void)
{
    NEED_S3();
    blob_store *s = open_s3("s3://dinoseek-ow");
    if (!s)
        return;
    ds_err err = {0};
    blob_info info;
    void *data = (void *)1;
    size_t n = 7;
    char hex[DS_SHA256_HEXLEN + 1];
    CHECK(blob_put(s, "t/a.jpg", "first version", 13, "image/jpeg", &err) == 0);
    CHECK(blob_put(s, "t/a.jpg", "second", 6, "image/png", &err) == 0);
    CHECK(blob_get(s, "t/a.jpg", &data, &n, &info, &err) == 0 && n == 6 &&
          memcmp(data, "second", 6) == 0);
    sha_hex("second", 6, hex);
    CHECK(strcmp(info.etag, hex) == 0 && strcmp(info.content_type, "image/png") == 0);
    free(data);
    CHECKF(blob_delete(s, "t/a.jpg", &err) == 0, "%s", err.msg);
    CHECK(blob_get(s, "t/a.jpg", &data, &n, &info, &err) == -1 && err.code == DS_ENOTFOUND);
    CHECK(data == NULL && n == 0);
    CHECK(blob_delete(s, "t/a.jpg", &err) == -1 && err.code == DS_ENOTFOUND);
    CHECK(blob_head(s, "a/b/c", &info, &err) == -1 && err.code == DS_ENOTFOUND);
    /* Keys the directory store refuses are refused here too, before any request. */
    static const char *const bad[] = {"../escape", "/abs", "a//b", "a\\b", ".hidden", "x/"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECKF(blob_put(s, bad[i], "x", 1, NULL, &err) == -1 && err.code == DS_EINVAL,
               "put accepted \"%s\"", bad[i]);
    blob_free(s);
}

typedef struct seen {
    char keys[16][128];
    int n, stop_after;
} seen;

static int collect(void *ctx, const char *key, const blob_info *info)
{
    seen *sn = ctx;
    (void)info;
    if (sn->n < 16)
        snprintf(sn->keys[sn->n], sizeof sn->keys[0], "%s", key);
    sn->n++;
    return sn->stop_after && sn->n >= sn->stop_after;
}

static void test_list_and_prefixes(void)
{
    NEED_S3();
    static const char *const keys[] = {"thumbnails/D0701016/b.jpg", "thumbnails/D0701016/a.jpg",
                                       "a-c", "a/b", "a0", "z"};
    static const char *const sorted[] = {"a-c", "a/b", "a0", "thumbnails/D0701016/a.jpg",
                                         "thumbnails/D0701016/b.jpg", "z"};
    blob_store *s = open_s3("s3://dinoseek-list/one"), *other = open_s3("s3://dinoseek-list/one-two");
    if (!s || !other) {
        blob_free(s);
        blob_free(other);
        return;
    }
    ds_err err = {0};
    for (size_t i = 0; i < 6; i++)
        CHECKF(blob_put(s, keys[i], keys[i], strlen(keys[i]), NULL, &err) == 0, "%s", err.msg);
    CHECK(blob_put(other, "a-other", "x", 1, NULL, &err) == 0);
    seen sn = {0};
    CHECKF(blob_list(s, NULL, collect, &sn, &err) == 0, "%s", err.msg);
    CHECKF(sn.n == 6, "%d keys (a store sees only its own prefix)", sn.n);
    /* The same keys; in byte order apart from '/' (SeaweedFS lists one
     * level of its tree at a time, so "a/b" comes before "a-c"; AWS and
     * MinIO list in plain byte order; see blob.h). */
    int found = 0;
    for (int i = 0; i < 6 && i < sn.n; i++)
        for (int j = 0; j < 6; j++)
            found += strcmp(sn.keys[i], sorted[j]) == 0;
    CHECKF(found == 6, "%d of the 6 keys listed", found);
    memset(&sn, 0, sizeof sn);
    CHECK(blob_list(s, "thumbnails/D07010", collect, &sn, &err) == 0 && sn.n == 2);
    memset(&sn, 0, sizeof sn);
    CHECK(blob_list(s, "a", collect, &sn, &err) == 0 && sn.n == 3);
    memset(&sn, 0, sizeof sn);
    sn.stop_after = 2;
    CHECK(blob_list(s, "", collect, &sn, &err) == 0 && sn.n == 2);
    memset(&sn, 0, sizeof sn);
    CHECK(blob_list(other, "", collect, &sn, &err) == 0 && sn.n == 1 &&
          strcmp(sn.keys[0], "a-other") == 0);
    blob_free(s);
    blob_free(other);
}

/* More than one page (S3 pages at 1000 keys): every key, in order, once. */
typedef struct ordered {
    char last[64];
    int n, out_of_order;
} ordered;

static int check_order(void *ctx, const char *key, const blob_info *info)
{
    ordered *o = ctx;
    (void)info;
    if (o->n && strcmp(o->last, key) >= 0)
        o->out_of_order++;
    snprintf(o->last, sizeof o->last, "%s", key);
    o->n++;
    return 0;
}

typedef struct putter {
    blob_store *s;
    int from, to, failed;
} putter;

static void *put_range(void *p)
{
    putter *w = p;
    for (int i = w->from; i < w->to; i++) {
        char key[64];
        ds_err err;
        snprintf(key, sizeof key, "many/k%05d", i);
        if (blob_put(w->s, key, key, strlen(key), NULL, &err) != 0)
            w->failed++;
    }
    return NULL;
}

static void test_list_pages_and_threads(void)
{
    NEED_S3();
    blob_store *s = open_s3("s3://dinoseek-pages");
    if (!s)
        return;
    enum { N = 1234, T = 4 };
    pthread_t th[T];
    putter w[T];
    for (int t = 0; t < T; t++) {
        w[t] = (putter){.s = s, .from = t * N / T, .to = (t + 1) * N / T};
        pthread_create(&th[t], NULL, put_range, &w[t]);
    }
    int failed = 0;
    for (int t = 0; t < T; t++) {
        pthread_join(th[t], NULL);
        failed += w[t].failed;
    }
    CHECKF(failed == 0, "%d puts from %d threads failed", failed, T);
    ordered o = {0};
    ds_err err = {0};
    CHECKF(blob_list(s, "many/", check_order, &o, &err) == 0, "%s", err.msg);
    CHECKF(o.n == N && o.out_of_order == 0, "%d keys listed (of %d), %d out of order", o.n, N,
           o.out_of_order);
    blob_free(s);
}

/* Bytes changed behind the store's back are caught by the stored sha256;
 * an object written by another tool (no sha256 metadata, as the seed's
 * MinIO uploads) reads fine, with the server's ETag. */
static void test_integrity_and_foreign_objects(void)
{
    NEED_S3();
    blob_store *s = open_s3("s3://dinoseek-int");
    if (!s)
        return;
    ds_err err = {0};
    CHECK(blob_put(s, "x.bin", "original", 8, NULL, &err) == 0);
    char hex[DS_SHA256_HEXLEN + 1], cmd[4096], path[600];
    sha_hex("original", 8, hex);
    snprintf(path, sizeof path, "%s/tampered", ds_test_tmpdir);
    CHECK(ds_test_write_file(path, "tampered", 8) == 0);
    const char *empty_sha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    char tampered_sha[DS_SHA256_HEXLEN + 1];
    sha_hex("tampered", 8, tampered_sha);
    /* Same object, other bytes, the old sha256 metadata: what bit rot or a
     * bad copy would leave. */
    snprintf(cmd, sizeof cmd,
             "curl -sf --aws-sigv4 aws:amz:us-east-1:s3 --user %s:%s -T %s "
             "-H 'x-amz-content-sha256: %s' -H 'x-amz-meta-sha256: %s' %s/dinoseek-int/x.bin && "
             "curl -sf --aws-sigv4 aws:amz:us-east-1:s3 --user %s:%s -T %s "
             "-H 'x-amz-content-sha256: %s' %s/dinoseek-int/seed/USD1-D00001.TIF",
             peer.access_key, peer.secret_key, path, tampered_sha, hex, peer.endpoint,
             peer.access_key, peer.secret_key, path, tampered_sha, peer.endpoint);
    (void)empty_sha;
    CHECK(ds_test_run(cmd, NULL, NULL) == 0);
    void *data = NULL;
    size_t n = 0;
    CHECK(blob_get(s, "x.bin", &data, &n, NULL, &err) == -1 && err.code == DS_ECHECKSUM);
    CHECK_MSG(err, "does not match its sha256");
    blob_info info;
    CHECKF(blob_get(s, "seed/USD1-D00001.TIF", &data, &n, &info, &err) == 0, "%s", err.msg);
    CHECK(n == 8 && memcmp(data, "tampered", 8) == 0);
    CHECKF(strlen(info.etag) == 32, "foreign etag '%s' (the server's MD5)", info.etag);
    free(data);
    blob_free(s);
}

static void test_virtual_host_addressing(void)
{
    NEED_S3();
    /* curl resolves *.localhost to loopback; the server was started with
     * -s3.domainName=localhost, so http://BUCKET.localhost:PORT works. */
    char ep[300];
    snprintf(ep, sizeof ep, "http://localhost:%s", strrchr(peer.endpoint, ':') + 1);
    blob_s3_config c = test_config();
    c.endpoint = ep;
    c.addressing = BLOB_S3_VIRTUAL;
    blob_store *s = NULL;
    ds_err err = {0};
    CHECKF(blob_s3_open("s3://dinoseek-vhost/p", &c, &s, &err) == 0, "%s", err.msg);
    if (!s)
        return;
    CHECKF(blob_put(s, "v/one.txt", "vh", 2, "text/plain", &err) == 0, "%s", err.msg);
    blob_store *path_style = open_s3("s3://dinoseek-vhost/p");
    void *data = NULL;
    size_t n = 0;
    /* The same object through path-style addressing. */
    CHECK(path_style && blob_get(path_style, "v/one.txt", &data, &n, NULL, &err) == 0 &&
          n == 2 && memcmp(data, "vh", 2) == 0);
    free(data);
    seen sn = {0};
    CHECKF(blob_list(s, "v/", collect, &sn, &err) == 0 && sn.n == 1, "%s", err.msg);
    blob_free(path_style);
    blob_free(s);
}

static void test_refusals(void)
{
    NEED_S3();
    blob_s3_config c = test_config();
    blob_store *s = NULL;
    ds_err err = {0};
    static const char *const bad_urls[] = {"s3://", "s3://ab", "s3://Upper", "s3://-dash",
                                           "s3://a_b_c", "s3://okbucket/../x", "s3:/x"};
    for (size_t i = 0; i < sizeof bad_urls / sizeof *bad_urls; i++)
        CHECKF(blob_s3_open(bad_urls[i], &c, &s, &err) == -1 && err.code == DS_EINVAL && !s,
               "%s accepted", bad_urls[i]);
    c.endpoint = "ftp://127.0.0.1:1";
    CHECK(blob_s3_open("s3://okbucket", &c, &s, &err) == -1 && err.code == DS_EINVAL);
    c.endpoint = "http://user:pw@127.0.0.1:1";
    CHECK(blob_s3_open("s3://okbucket", &c, &s, &err) == -1 && err.code == DS_EINVAL);
    c.endpoint = "http://127.0.0.1:1/path";
    CHECK(blob_s3_open("s3://okbucket", &c, &s, &err) == -1 && err.code == DS_EINVAL);
    /* Wrong credentials: refused at open, with the server's reason, and the
     * secret is not in the message. */
    c = test_config();
    c.secret_key = "not-the-secret-XYZZY";
    CHECK(blob_s3_open("s3://dinoseek-rt", &c, &s, &err) == -1 && !s);
    CHECK_MSG(err, "HTTP 403");
    CHECK(strstr(err.msg, "XYZZY") == NULL);
    c = test_config();
    c.access_key = "only-the-key";
    c.secret_key = NULL;
    unsetenv("AWS_SECRET_ACCESS_KEY");
    CHECK(blob_s3_open("s3://dinoseek-rt", &c, &s, &err) == -1 && err.code == DS_EINVAL);
}

/* Credentials and region from the usual AWS environment variables. */
static void test_environment_credentials(void)
{
    NEED_S3();
    setenv("AWS_ACCESS_KEY_ID", peer.access_key, 1);
    setenv("AWS_SECRET_ACCESS_KEY", peer.secret_key, 1);
    setenv("AWS_DEFAULT_REGION", "us-east-1", 1);
    blob_s3_config c = {.endpoint = peer.endpoint};
    blob_store *s = NULL;
    ds_err err = {0};
    CHECKF(blob_open("s3://dinoseek-env/x", &c, &s, &err) == 0, "%s", err.msg);
    CHECK(s && blob_put(s, "k", "v", 1, NULL, &err) == 0);
    blob_free(s);
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    unsetenv("AWS_DEFAULT_REGION");
}

/* ---- faults: no server, a garbage server, a slow one, a flaky one -------- */

static void test_server_down(void)
{
    /* A port nothing listens on: the store opens (S3 may come back), and
     * each call fails with DS_ENET naming S3, after a few quick retries. */
    ds_fault f;
    if (ds_fault_start(&f, "garbage") != 0) {
        CHECK(!"fault server did not start");
        return;
    }
    char ep[64];
    snprintf(ep, sizeof ep, "%s", f.url);
    ds_fault_stop(&f); /* now nothing listens there */
    blob_s3_config c = {.endpoint = ep, .access_key = "k", .secret_key = "s", .retries = 2,
                        .timeout_ms = 2000};
    blob_store *s = NULL;
    ds_err err = {0};
    CHECKF(blob_s3_open("s3://down-bucket", &c, &s, &err) == 0, "%s", err.msg);
    if (!s)
        return;
    double t0 = now_ms();
    CHECK(blob_put(s, "a", "b", 1, NULL, &err) == -1 && err.code == DS_ENET);
    CHECK_MSG(err, "S3 s3://down-bucket");
    void *data;
    size_t n;
    CHECK(blob_get(s, "a", &data, &n, NULL, &err) == -1 && err.code == DS_ENET);
    CHECKF(now_ms() - t0 < 15000, "%.0f ms to give up", now_ms() - t0);
    blob_free(s);
}

static void test_garbage_and_slow_servers(void)
{
    ds_fault g, slow;
    if (ds_fault_start(&g, "garbage") != 0 || ds_fault_start(&slow, "slow") != 0) {
        CHECK(!"fault servers did not start");
        return;
    }
    blob_s3_config c = {.endpoint = g.url, .access_key = "k", .secret_key = "s",
                        .timeout_ms = 1500, .retries = 1};
    blob_store *s = NULL;
    ds_err err = {0};
    /* A garbage 200 to HEAD bucket looks like "exists"; the listing is then
     * refused as not S3, and nothing crashes. */
    CHECKF(blob_s3_open("s3://garbage-bucket", &c, &s, &err) == 0, "%s", err.msg);
    if (s) {
        seen sn = {0};
        CHECK(blob_list(s, "", collect, &sn, &err) == -1 && err.code == DS_EFORMAT);
        CHECK(sn.n == 0);
        blob_free(s);
    }
    /* A server that accepts and never answers: each attempt ends at its
     * time limit, so a call returns within (retries + 1) x timeout. */
    c.endpoint = slow.url;
    s = NULL;
    double t0 = now_ms();
    CHECKF(blob_s3_open("s3://slow-bucket", &c, &s, &err) == 0, "%s", err.msg);
    if (s) {
        blob_info info;
        CHECK(blob_head(s, "k", &info, &err) == -1 && err.code == DS_ENET);
        CHECK_MSG(err, "HEAD k");
        blob_free(s);
    }
    CHECKF(now_ms() - t0 < 12000, "%.0f ms against a silent server", now_ms() - t0);
    ds_fault_stop(&g);
    ds_fault_stop(&slow);
}

static void test_retries_pass_503s(void)
{
    NEED_S3();
    ds_fault f;
    char mode[400];
    snprintf(mode, sizeof mode, "flaky 3 %s", peer.endpoint);
    if (ds_fault_start(&f, mode) != 0) {
        CHECK(!"fault server did not start");
        return;
    }
    blob_s3_config c = test_config();
    c.endpoint = f.url;
    blob_store *s = NULL;
    ds_err err = {0};
    /* Open's one try meets a 503 (the bucket check is then left to the
     * first put), the put is retried past the other two 503s. */
    CHECKF(blob_s3_open("s3://dinoseek-flaky", &c, &s, &err) == 0, "%s", err.msg);
    if (s) {
        CHECKF(blob_put(s, "through/503s.txt", "made it", 7, NULL, &err) == 0, "%s", err.msg);
        void *data = NULL;
        size_t n = 0;
        CHECK(blob_get(s, "through/503s.txt", &data, &n, NULL, &err) == 0 && n == 7);
        free(data);
        CHECKF(ds_fault_count(&f) >= 5, "%d requests reached the proxy", ds_fault_count(&f));
        blob_free(s);
    }
    /* With retries off, a 503 is an error at once (DS_ENET: may pass). */
    ds_fault_stop(&f);
    CHECK(ds_fault_start(&f, "status 503") == 0);
    c.endpoint = f.url;
    c.retries = -1;
    s = NULL;
    CHECK(blob_s3_open("s3://dinoseek-flaky", &c, &s, &err) == 0);
    if (s) {
        CHECK(blob_put(s, "x", "y", 1, NULL, &err) == -1 && err.code == DS_ENET);
        CHECK_MSG(err, "HTTP 503");
        blob_free(s);
    }
    ds_fault_stop(&f);
}

static void test_stop(void)
{
    if (!peer.up)
        SKIP("no S3 server was started");
    CHECK(ds_peer_stop(&peer) == 0);
}

const ds_test s3_tests[] = {
    {"a real S3 server starts (SeaweedFS, by PID)", test_start},
    {"round trip: sha256 etags, types, 1 MiB, prefix", test_round_trip},
    {"overwrite, delete, missing keys, refused keys", test_overwrite_delete_missing},
    {"listing in byte order, prefixes kept apart", test_list_and_prefixes},
    {"1234 keys from 4 threads: listed over pages", test_list_pages_and_threads},
    {"tampered bytes caught; foreign objects read", test_integrity_and_foreign_objects},
    {"virtual-host addressing reaches the same objects", test_virtual_host_addressing},
    {"bad URLs, endpoints and credentials refused", test_refusals},
    {"credentials from AWS_* environment variables", test_environment_credentials},
    {"server down: DS_ENET naming S3, quickly", test_server_down},
    {"garbage and silent servers: errors, no hang", test_garbage_and_slow_servers},
    {"503s are retried with backoff, then pass", test_retries_pass_503s},
    {"the S3 server stops (by PID)", test_stop},
    {0},
};
