/* test_blob.c - the blob store (keys, the directory store) and thumbnails. */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <vips/vips.h>

#include "../suites.h"
#include "base/sha256.h"
#include "blob/blob.h"
#include "image/image.h"

#define FIX "tests/fixtures/images/"

/* A fresh store in its own directory under the suite's tmpdir. */
static blob_store *open_store(const char *name, char *root, size_t cap)
{
    ds_err err;
    blob_store *s = NULL;
    snprintf(root, cap, "%s/%s", ds_test_tmpdir, name);
    CHECKF(blob_dir_open(root, &s, &err) == 0, "%s", err.msg);
    return s;
}

static void sha_hex(const void *d, size_t n, char hex[DS_SHA256_HEXLEN + 1])
{
    uint8_t dig[DS_SHA256_LEN];
    ds_sha256_buf(d, n, dig);
    ds_sha256_hex(dig, hex);
}

/* Count files under dir (recursively) whose name contains needle. */
static int count_files(const char *dir, const char *needle)
{
    DIR *dh = opendir(dir);
    int n = 0;
    if (!dh)
        return 0;
    for (struct dirent *de; (de = readdir(dh)) != NULL;) {
        char path[2048];
        struct stat st;
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (lstat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode))
            n += count_files(path, needle);
        else if (!needle || strstr(de->d_name, needle))
            n++;
    }
    closedir(dh);
    return n;
}

/* ---- keys ------------------------------------------------------------------ */

static void test_keys_good(void)
{
    static const char *const good[] = {
        "a", "originals/D0701016/D0701016-D00001.TIF", "thumbnails/D0701016/x.jpg",
        "a b/c d", "x..y", "a/b.c", "a./b", "~/$weird!@#%^&*()[]{}|;:,<>?=+`'\"", "a-",
    };
    ds_err err;
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        CHECKF(blob_key_check(good[i], &err) == 0, "%s: %s", good[i], err.msg);
    /* Exactly 1024 bytes, in segments of 200 + '/'. */
    char key[BLOB_KEY_MAX + 1];
    memset(key, 'k', BLOB_KEY_MAX);
    for (int i = 200; i < BLOB_KEY_MAX; i += 201)
        key[i] = '/';
    key[BLOB_KEY_MAX] = '\0';
    CHECKF(blob_key_check(key, &err) == 0, "%s", err.msg);
}

static void test_keys_hostile(void)
{
    static const struct {
        const char *key;
        const char *msg;
    } bad[] = {
        {"", "empty"},
        {"/abs", "starts with '/'"},
        {"/etc/passwd", "absolute"},
        {"../x", "\"..\" path segment"},
        {"..", "\"..\""},
        {".", "\".\""},
        {"a/../b", "path traversal"},
        {"a/./b", "\".\" path segment"},
        {"a/..", "\"..\""},
        {"a/b/../../../etc/passwd", "\"..\""},
        {"a//b", "empty path segment"},
        {"a/", "empty path segment"},
        {"a\\b", "backslash"},
        {"..\\..\\windows", "backslash"},
        {"a\x01" "b", "non-printable byte 0x01"},
        {"a\nb", "non-printable byte 0x0a"},
        {"a\tb", "non-printable"},
        {"a\x7f", "non-printable byte 0x7f"},
        {"caf\xc3\xa9", "non-printable byte 0xc3"},
        {".hidden", "starting with '.'"},
        {"a/.c.jpg.meta", "reserved"},
        {"a/.tmp-1-2", "reserved"},
    };
    ds_err err;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err.msg[0] = '\0';
        CHECKF(blob_key_check(bad[i].key, &err) == -1, "accepted \"%s\"", bad[i].key);
        CHECK(err.code == DS_EINVAL);
        CHECK_MSG(err, bad[i].msg);
    }
    CHECK(blob_key_check(NULL, &err) == -1 && err.code == DS_EINVAL);
    CHECK(blob_key_check_n("a\0b", 3, &err) == -1);
    CHECK_MSG(err, "NUL byte at byte 1");
    CHECK(blob_key_check_n("ab", 2, &err) == 0);
    char *big = malloc(2001);
    memset(big, 'x', 2000);
    big[2000] = '\0';
    CHECK(blob_key_check(big, &err) == -1);
    CHECK_MSG(err, "2000 bytes long, over the limit of 1024");
    big[241] = '\0';
    CHECK(blob_key_check(big, &err) == -1);
    CHECK_MSG(err, "segment of 241 bytes");
    big[240] = '\0';
    CHECK(blob_key_check(big, &err) == 0);
    free(big);
}

/* ---- the directory store --------------------------------------------------- */

static void test_round_trip(void)
{
    char root[512];
    ds_err err;
    blob_store *s = open_store("rt", root, sizeof root);
    if (!s)
        return;
    CHECK(strcmp(blob_store_kind(s), "dir") == 0);
    const char *key = "originals/D0701016/D0701016-D00001.TIF";
    CHECKF(blob_put(s, key, "abc", 3, "image/tiff", &err) == 0, "%s", err.msg);

    void *data = NULL;
    size_t n = 0;
    blob_info info;
    CHECKF(blob_get(s, key, &data, &n, &info, &err) == 0, "%s", err.msg);
    CHECK(n == 3 && data && memcmp(data, "abc", 4) == 0); /* NUL-terminated */
    CHECK(info.size == 3);
    CHECK(strcmp(info.etag,
                 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0);
    CHECK(strcmp(info.content_type, "image/tiff") == 0);
    CHECK(info.mtime > 1600000000);
    free(data);

    blob_info h;
    CHECKF(blob_head(s, key, &h, &err) == 0, "%s", err.msg);
    CHECK(h.size == 3 && strcmp(h.etag, info.etag) == 0);
    CHECK(strcmp(h.content_type, "image/tiff") == 0);

    /* The blob is the plain file under the root. */
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root, key);
    size_t fn = 0;
    char *f = ds_test_read_file(path, &fn);
    CHECK(f && fn == 3 && memcmp(f, "abc", 3) == 0);
    free(f);

    /* get without info; empty blob; default content type. */
    CHECK(blob_get(s, key, &data, &n, NULL, &err) == 0 && n == 3);
    free(data);
    CHECKF(blob_put(s, "empty", NULL, 0, NULL, &err) == 0, "%s", err.msg);
    CHECK(blob_get(s, "empty", &data, &n, &info, &err) == 0 && n == 0 && data);
    CHECK(strcmp(info.content_type, "application/octet-stream") == 0);
    CHECK(strcmp(info.etag,
                 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == 0);
    free(data);
    /* Bad content types. */
    CHECK(blob_put(s, "x", "a", 1, "text/plain\n", &err) == -1 && err.code == DS_EINVAL);
    CHECK(blob_put(s, "x", "a", 1, "", &err) == -1 && err.code == DS_EINVAL);
    CHECK(blob_put(s, "x", NULL, 5, NULL, &err) == -1 && err.code == DS_EINVAL);
    blob_free(s);

    /* Reopening finds the same blob. */
    s = open_store("rt", root, sizeof root);
    CHECK(s && blob_head(s, key, &h, &err) == 0 && h.size == 3);
    blob_free(s);
    blob_free(NULL);
}

static void test_overwrite_and_delete(void)
{
    char root[512], hex[DS_SHA256_HEXLEN + 1];
    ds_err err;
    blob_info info;
    void *data = NULL;
    size_t n = 0;
    blob_store *s = open_store("ow", root, sizeof root);
    if (!s)
        return;
    CHECK(blob_put(s, "t/a.jpg", "first version", 13, "image/jpeg", &err) == 0);
    CHECK(blob_put(s, "t/a.jpg", "second", 6, "image/png", &err) == 0);
    CHECK(blob_get(s, "t/a.jpg", &data, &n, &info, &err) == 0);
    CHECK(n == 6 && memcmp(data, "second", 6) == 0);
    sha_hex("second", 6, hex);
    CHECK(strcmp(info.etag, hex) == 0 && strcmp(info.content_type, "image/png") == 0);
    free(data);

    CHECKF(blob_delete(s, "t/a.jpg", &err) == 0, "%s", err.msg);
    CHECK(blob_get(s, "t/a.jpg", &data, &n, &info, &err) == -1 && err.code == DS_ENOTFOUND);
    CHECK(data == NULL && n == 0);
    CHECK(blob_delete(s, "t/a.jpg", &err) == -1 && err.code == DS_ENOTFOUND);
    /* No sidecar or temporary file left behind. */
    CHECK(count_files(root, NULL) == 0);
    blob_free(s);
}

static void test_missing(void)
{
    char root[512];
    ds_err err;
    blob_info info;
    void *data = (void *)1;
    size_t n = 7;
    blob_store *s = open_store("miss", root, sizeof root);
    if (!s)
        return;
    CHECK(blob_get(s, "nope", &data, &n, &info, &err) == -1 && err.code == DS_ENOTFOUND);
    CHECK(data == NULL && n == 0);
    CHECK_MSG(err, "\"nope\" not found");
    CHECK(blob_head(s, "a/b/c", &info, &err) == -1 && err.code == DS_ENOTFOUND);
    CHECK(blob_put(s, "dir/x", "1", 1, NULL, &err) == 0);
    /* A directory is not a blob; a blob is not a directory. */
    CHECK(blob_head(s, "dir", &info, &err) == -1 && err.code == DS_ENOTFOUND);
    CHECK(blob_get(s, "dir", &data, &n, &info, &err) == -1 && err.code == DS_ENOTFOUND);
    CHECK(blob_delete(s, "dir", &err) == -1 && err.code == DS_ENOTFOUND);
    CHECK(blob_head(s, "dir/x/y", &info, &err) == -1 && err.code == DS_ENOTFOUND);
    blob_free(s);
}

static void test_hostile_names_refused(void)
{
    static const char *const bad[] = {"../escape", "/tmp/abs", "a/../b", "a//b", "a/./b",
                                      "a\\b",      "a\x1b[31m", "", ".sidecar", "x/"};
    char root[512];
    ds_err err;
    blob_info info;
    void *data;
    size_t n;
    blob_store *s = open_store("hostile", root, sizeof root);
    if (!s)
        return;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECKF(blob_put(s, bad[i], "x", 1, NULL, &err) == -1 && err.code == DS_EINVAL,
               "put accepted \"%s\"", bad[i]);
        CHECK(blob_get(s, bad[i], &data, &n, NULL, &err) == -1 && err.code == DS_EINVAL);
        CHECK(blob_head(s, bad[i], &info, &err) == -1 && err.code == DS_EINVAL);
        CHECK(blob_delete(s, bad[i], &err) == -1 && err.code == DS_EINVAL);
    }
    char *big = malloc(2001);
    memset(big, 'a', 2000);
    big[2000] = '\0';
    CHECK(blob_put(s, big, "x", 1, NULL, &err) == -1 && err.code == DS_EINVAL);
    free(big);
    CHECK(blob_put(NULL, "a", "x", 1, NULL, &err) == -1 && err.code == DS_EINVAL);
    /* Nothing was written anywhere: not in the root, not beside it. */
    CHECK(count_files(root, NULL) == 0);
    char escaped[600];
    snprintf(escaped, sizeof escaped, "%s/escape", ds_test_tmpdir);
    CHECK(access(escaped, F_OK) != 0);
    /* List prefixes are checked too. */
    CHECK(blob_list(s, "../", NULL, NULL, &err) == -1);
    blob_free(s);
}

typedef struct seen {
    char keys[32][128];
    uint64_t sizes[32];
    int n, stop_after;
} seen;

static int collect(void *ctx, const char *key, const blob_info *info)
{
    seen *sn = ctx;
    if (sn->n < 32) {
        snprintf(sn->keys[sn->n], sizeof sn->keys[0], "%s", key);
        sn->sizes[sn->n] = info->size;
    }
    sn->n++;
    return sn->stop_after && sn->n >= sn->stop_after;
}

static void test_list(void)
{
    static const char *const keys[] = {
        "thumbnails/D0701016/b.jpg", "thumbnails/D0701016/a.jpg", "thumbnails/D0702000/a.jpg",
        "originals/D0701016/D0701016-D00001.TIF", "a-c", "a/b", "a0", "z",
    };
    /* Byte order of the full keys, as S3 lists them: "a-c" < "a/b" < "a0". */
    static const char *const sorted[] = {
        "a-c", "a/b", "a0", "originals/D0701016/D0701016-D00001.TIF",
        "thumbnails/D0701016/a.jpg", "thumbnails/D0701016/b.jpg", "thumbnails/D0702000/a.jpg",
        "z",
    };
    char root[512];
    ds_err err;
    blob_store *s = open_store("list", root, sizeof root);
    if (!s)
        return;
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        CHECKF(blob_put(s, keys[i], keys[i], strlen(keys[i]), NULL, &err) == 0, "%s",
               err.msg);
    seen sn = {0};
    CHECKF(blob_list(s, NULL, collect, &sn, &err) == 0, "%s", err.msg);
    CHECKF(sn.n == 8, "%d keys", sn.n);
    for (int i = 0; i < 8 && i < sn.n; i++) {
        CHECKF(strcmp(sn.keys[i], sorted[i]) == 0, "%d: %s, expected %s", i, sn.keys[i],
               sorted[i]);
        CHECK(sn.sizes[i] == strlen(sn.keys[i]));
    }
    memset(&sn, 0, sizeof sn);
    CHECK(blob_list(s, "thumbnails/", collect, &sn, &err) == 0 && sn.n == 3);
    memset(&sn, 0, sizeof sn);
    CHECK(blob_list(s, "thumbnails/D07010", collect, &sn, &err) == 0 && sn.n == 2);
    CHECK(strcmp(sn.keys[0], "thumbnails/D0701016/a.jpg") == 0);
    memset(&sn, 0, sizeof sn);
    CHECK(blob_list(s, "thumbnails/D0701016/b", collect, &sn, &err) == 0 && sn.n == 1);
    memset(&sn, 0, sizeof sn);
    CHECK(blob_list(s, "a", collect, &sn, &err) == 0 && sn.n == 3);
    memset(&sn, 0, sizeof sn);
    CHECK(blob_list(s, "nothing/here/", collect, &sn, &err) == 0 && sn.n == 0);
    memset(&sn, 0, sizeof sn);
    CHECK(blob_list(s, "z/deeper", collect, &sn, &err) == 0 && sn.n == 0);
    memset(&sn, 0, sizeof sn);
    sn.stop_after = 2;
    CHECK(blob_list(s, "", collect, &sn, &err) == 0 && sn.n == 2);
    /* Stray temporary files and sidecars never show. */
    char path[700];
    snprintf(path, sizeof path, "%s/.tmp-999-1", root);
    CHECK(ds_test_write_file(path, "junk", 4) == 0);
    memset(&sn, 0, sizeof sn);
    CHECK(blob_list(s, "", collect, &sn, &err) == 0 && sn.n == 8);
    CHECK(blob_list(s, "a//", collect, &sn, &err) == -1 && err.code == DS_EINVAL);
    CHECK(blob_list(s, "", NULL, &sn, &err) == -1 && err.code == DS_EINVAL);
    blob_free(s);
}

static void test_atomic_no_temp_left(void)
{
    char root[512];
    ds_err err;
    blob_store *s = open_store("atomic", root, sizeof root);
    if (!s)
        return;
    char key[64], val[64];
    for (int i = 0; i < 50; i++) {
        snprintf(key, sizeof key, "k/%d/v", i % 5);
        int n = snprintf(val, sizeof val, "value %d", i);
        CHECK(blob_put(s, key, val, (size_t)n, NULL, &err) == 0);
    }
    CHECK(count_files(root, ".tmp-") == 0);
    CHECK(count_files(root, ".meta") == 5);
    CHECK(count_files(root, NULL) == 10);

    /* A parent that is a blob: refused, the blob intact, nothing left. */
    CHECK(blob_put(s, "f", "file", 4, NULL, &err) == 0);
    CHECK(blob_put(s, "f/x", "no", 2, NULL, &err) == -1 && err.code == DS_EINVAL);
    CHECK_MSG(err, "is a blob, not a directory");
    /* A name that is a directory of other blobs: refused, nothing left. */
    CHECK(blob_put(s, "k", "no", 2, NULL, &err) == -1 && err.code == DS_EINVAL);
    CHECK_MSG(err, "is a directory");
    void *d = NULL;
    size_t n = 0;
    CHECK(blob_get(s, "f", &d, &n, NULL, &err) == 0 && n == 4 && !memcmp(d, "file", 4));
    free(d);
    CHECK(count_files(root, ".tmp-") == 0);
    CHECK(count_files(root, NULL) == 12);

    /* A read-only directory: the put fails and leaves nothing (root ignores
     * permissions, so this part only runs as another user). */
    char ro[700];
    snprintf(ro, sizeof ro, "%s/ro", root);
    CHECK(blob_put(s, "ro/old", "old", 3, NULL, &err) == 0);
    if (chmod(ro, 0555) == 0 && access(ro, W_OK) != 0) {
        CHECK(blob_put(s, "ro/new", "new", 3, NULL, &err) == -1 && err.code == DS_EIO);
        CHECK(blob_put(s, "ro/old", "changed", 7, NULL, &err) == -1);
        CHECK(blob_get(s, "ro/old", &d, &n, NULL, &err) == 0 && n == 3);
        free(d);
        CHECK(count_files(ro, NULL) == 2);
    } else {
        fprintf(stderr, "    (read-only case skipped: running as root)\n");
    }
    chmod(ro, 0755);
    blob_free(s);
}

/* What a SIGKILLed put leaves (a .tmp-PID-N file) is swept once its
 * writer is gone: a dead process's, and one of our own PID older than the
 * store (a restarted process that got the crashed one's PID); a live
 * writer's (PID 1, or ours and fresh) stays. Blobs and sidecars stay. */
static void test_sweep_temporaries(void)
{
    char root[512], path[800];
    ds_err err = {0};
    blob_store *s = open_store("sweep", root, sizeof root);
    if (!s)
        return;
    CHECK(blob_put(s, "originals/c/a.tif", "a", 1, NULL, &err) == 0);
    pid_t dead = fork();
    if (dead == 0)
        _exit(0);
    waitpid(dead, NULL, 0);
    const long pids[] = {(long)dead, 1, (long)getpid(), (long)getpid()};
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/originals/c/.tmp-%ld-%d", root, pids[i], 900 + i);
        CHECK(ds_test_write_file(path, "part", 4) == 0);
    }
    /* The last one: ours, but from before this store was opened. */
    struct timespec old[2] = {{.tv_sec = time(NULL) - 3600}, {.tv_sec = time(NULL) - 3600}};
    CHECK(utimensat(AT_FDCWD, path, old, 0) == 0);
    size_t removed = 99;
    CHECK(blob_sweep(s, "originals/c", &removed, &err) == 0);
    CHECKF(removed == 2, "removed %zu", removed);
    CHECK(count_files(root, ".tmp-") == 2);
    CHECK(count_files(root, ".meta") == 1 && count_files(root, "a.tif") == 2);
    /* Nothing there yet, or a bad name: no error, a refusal. */
    CHECK(blob_sweep(s, "thumbnails/none", &removed, &err) == 0 && removed == 0);
    CHECK(blob_sweep(s, "../x", &removed, &err) == -1 && err.code == DS_EINVAL);
    blob_free(s);
}

/* A file replaced behind the store's back: head and get re-hash it. */
static void test_stale_sidecar(void)
{
    char root[512], path[1024], hex[DS_SHA256_HEXLEN + 1];
    ds_err err;
    blob_info info;
    blob_store *s = open_store("stale", root, sizeof root);
    if (!s)
        return;
    CHECK(blob_put(s, "a/b", "original", 8, "text/plain", &err) == 0);
    snprintf(path, sizeof path, "%s/a/b", root);
    unlink(path);
    CHECK(ds_test_write_file(path, "by hand!", 8) == 0); /* same size, new inode */
    CHECK(blob_head(s, "a/b", &info, &err) == 0);
    sha_hex("by hand!", 8, hex);
    CHECK(strcmp(info.etag, hex) == 0);
    CHECK(strcmp(info.content_type, "application/octet-stream") == 0);
    /* A file copied in with no sidecar at all. */
    snprintf(path, sizeof path, "%s/loose.txt", root);
    CHECK(ds_test_write_file(path, "loose", 5) == 0);
    void *d = NULL;
    size_t n = 0;
    CHECK(blob_get(s, "loose.txt", &d, &n, &info, &err) == 0 && n == 5);
    sha_hex("loose", 5, hex);
    CHECK(strcmp(info.etag, hex) == 0);
    free(d);
    /* A corrupt sidecar is ignored. */
    snprintf(path, sizeof path, "%s/a/.b.meta", root);
    CHECK(ds_test_write_file(path, "garbage\n", 8) == 0);
    CHECK(blob_head(s, "a/b", &info, &err) == 0);
    sha_hex("by hand!", 8, hex);
    CHECK(strcmp(info.etag, hex) == 0);
    blob_free(s);
}

static void test_open(void)
{
    char path[600];
    ds_err err;
    blob_store *s = (blob_store *)1;
    CHECK(blob_open("s3://B_ad/prefix", NULL, &s, &err) == -1 && err.code == DS_EINVAL);
    CHECK(s == NULL);
    CHECK(blob_open("ftp://x", NULL, &s, &err) == -1 && err.code == DS_EINVAL);
    CHECK(blob_open("", NULL, &s, &err) == -1 && err.code == DS_EINVAL);
    CHECK(blob_dir_open(NULL, &s, &err) == -1 && err.code == DS_EINVAL);
    snprintf(path, sizeof path, "dir:%s/open/deep/er", ds_test_tmpdir);
    CHECKF(blob_open(path, NULL, &s, &err) == 0, "%s", err.msg);
    CHECK(s && strcmp(blob_store_kind(s), "dir") == 0);
    blob_free(s);
    snprintf(path, sizeof path, "%s/open/afile", ds_test_tmpdir);
    CHECK(ds_test_write_file(path, "x", 1) == 0);
    CHECK(blob_dir_open(path, &s, &err) == -1 && s == NULL);
    CHECK_MSG(err, "afile");
}

typedef struct race {
    blob_store *s;
    int id, bad;
} race;

static void *racer(void *p)
{
    race *r = p;
    char val[4096];
    ds_err err;
    for (int i = 0; i < 40; i++) {
        memset(val, 'A' + r->id, sizeof val);
        if (blob_put(r->s, "race/key", val, sizeof val, NULL, &err) != 0)
            r->bad++;
        void *d = NULL;
        size_t n = 0;
        blob_info info;
        char hex[DS_SHA256_HEXLEN + 1];
        if (blob_get(r->s, "race/key", &d, &n, &info, &err) != 0 || n != sizeof val) {
            r->bad++;
        } else {
            const char *c = d;
            for (size_t j = 1; j < n; j++)
                if (c[j] != c[0])
                    r->bad++;
            sha_hex(d, n, hex);
            if (strcmp(hex, info.etag) != 0)
                r->bad++;
        }
        free(d);
    }
    return NULL;
}

static void test_concurrent_puts(void)
{
    char root[512];
    blob_store *s = open_store("race", root, sizeof root);
    pthread_t t[4];
    race r[4];
    if (!s)
        return;
    for (int i = 0; i < 4; i++) {
        r[i] = (race){s, i, 0};
        pthread_create(&t[i], NULL, racer, &r[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECKF(r[i].bad == 0, "thread %d: %d bad reads", i, r[i].bad);
    }
    CHECK(count_files(root, ".tmp-") == 0);
    blob_free(s);
}

/* ---- thumbnails ------------------------------------------------------------ */

/* Decode a JPEG back with libvips; its size, or -1. */
static int jpeg_size(const void *buf, size_t n, int *w, int *h)
{
    if (n < 3 || memcmp(buf, "\xff\xd8\xff", 3) != 0)
        return -1;
    VipsImage *im = vips_image_new_from_buffer(buf, n, "", NULL);
    if (!im)
        return -1;
    double avg = 0;
    int rc = vips_avg(im, &avg, NULL); /* decodes every pixel */
    *w = im->Xsize, *h = im->Ysize;
    int exif = vips_image_get_typeof(im, VIPS_META_EXIF_NAME) != 0;
    g_object_unref(im);
    return rc != 0 || exif ? -1 : 0;
}

static void thumb_check(const char *name, int portrait)
{
    ds_err err;
    size_t n = 0, tn = 0;
    void *buf = ds_test_read_file(name, &n), *jpeg = NULL;
    int w = 0, h = 0;
    CHECKF(buf != NULL, "%s", name);
    if (!buf)
        return;
    CHECKF(img_thumbnail_buffer(buf, n, 300, 85, &jpeg, &tn, &err) == 0, "%s: %s", name,
           err.msg);
    CHECKF(jpeg && jpeg_size(jpeg, tn, &w, &h) == 0, "%s: not a clean JPEG", name);
    CHECKF((w > h ? w : h) == 300 && w >= 1 && h >= 1, "%s: %d x %d", name, w, h);
    if (portrait >= 0)
        CHECKF(portrait ? h >= w : w >= h, "%s: %d x %d", name, w, h);
    free(jpeg);
    free(buf);
}

static void test_thumbnails(void)
{
    ds_err err;
    CHECKF(img_init(NULL, &err) == 0, "%s", err.msg);
    thumb_check(FIX "drawing_g4.tif", -1);
    thumb_check(FIX "parity_photo.jpg", -1);
    thumb_check(FIX "alpha.png", -1);
    thumb_check(FIX "exif_rot6.jpg", -1);
    thumb_check(FIX "parity_tall.png", 1);
}

/* EXIF orientation 6 swaps the sides: the thumbnail follows the upright
 * image, as the model's input does. */
static void test_thumbnail_rotation(void)
{
    ds_err err;
    size_t n = 0, tn = 0;
    void *buf = ds_test_read_file(FIX "exif_rot6.jpg", &n), *jpeg = NULL;
    if (!buf)
        SKIP("no fixture");
    VipsImage *raw = vips_image_new_from_buffer(buf, n, "", NULL);
    CHECK(raw != NULL);
    int rw = raw ? raw->Xsize : 0, rh = raw ? raw->Ysize : 0;
    if (raw)
        g_object_unref(raw);
    int w = 0, h = 0;
    CHECK(img_thumbnail_buffer(buf, n, 300, 85, &jpeg, &tn, &err) == 0);
    CHECK(jpeg && jpeg_size(jpeg, tn, &w, &h) == 0);
    if (rw != rh)
        CHECKF((rw > rh) == (h > w), "stored %d x %d, thumbnail %d x %d", rw, rh, w, h);
    free(jpeg);
    /* Small sizes: never 0 x 0. */
    CHECK(img_thumbnail_buffer(buf, n, 8, 50, &jpeg, &tn, &err) == 0);
    CHECK(jpeg && jpeg_size(jpeg, tn, &w, &h) == 0 && (w == 8 || h == 8));
    free(jpeg);
    free(buf);
}

static void test_thumbnail_bad_input(void)
{
    static const struct {
        const char *file;
        ds_code code;
        const char *msg;
    } bad[] = {
        {FIX "text.png", DS_EFORMAT, "not an image"},
        {FIX "truncated.png", DS_EFORMAT, "PNG"},
        {FIX "truncated.jpg", DS_EFORMAT, "JPEG"},
        {FIX "bomb.png", DS_ETOOBIG, "over the limit"},
        {FIX "zero.png", DS_EFORMAT, "no pixels"},
    };
    ds_err err;
    void *jpeg = (void *)1;
    size_t tn = 5;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        size_t n = 0;
        void *buf = ds_test_read_file(bad[i].file, &n);
        CHECKF(buf != NULL, "%s", bad[i].file);
        err.msg[0] = '\0';
        CHECKF(img_thumbnail_buffer(buf, n, 300, 85, &jpeg, &tn, &err) == -1, "%s accepted",
               bad[i].file);
        CHECKF(err.code == bad[i].code, "%s: code %d (%s)", bad[i].file, err.code, err.msg);
        CHECK_MSG(err, bad[i].msg);
        CHECK(jpeg == NULL && tn == 0);
        free(buf);
    }
    CHECK(img_thumbnail_buffer("", 0, 300, 85, &jpeg, &tn, &err) == -1 &&
          err.code == DS_EFORMAT);
    CHECK(img_thumbnail_buffer("xx", 2, 0, 85, &jpeg, &tn, &err) == -1 &&
          err.code == DS_EINVAL);
    CHECK(img_thumbnail_buffer("xx", 2, 300, 101, &jpeg, &tn, &err) == -1 &&
          err.code == DS_EINVAL);
}

const ds_test blob_tests[] = {
    {"good keys accepted", test_keys_good},
    {"hostile keys refused with clear messages", test_keys_hostile},
    {"put, get, head round trip", test_round_trip},
    {"overwrite and delete", test_overwrite_and_delete},
    {"missing keys are DS_ENOTFOUND", test_missing},
    {"hostile names refused by every operation, nothing written", test_hostile_names_refused},
    {"list: byte order, prefixes, stop, hidden files", test_list},
    {"puts are atomic and leave no temporary files", test_atomic_no_temp_left},
    {"sweep: temporaries of dead writers removed, live ones kept", test_sweep_temporaries},
    {"stale or missing sidecars: etag re-hashed", test_stale_sidecar},
    {"opening: specs, bad roots", test_open},
    {"concurrent puts and gets of one key", test_concurrent_puts},
    {"thumbnails of the fixtures: JPEG, longer side 300", test_thumbnails},
    {"thumbnail follows EXIF rotation; small sizes", test_thumbnail_rotation},
    {"thumbnail of bad input: clear errors", test_thumbnail_bad_input},
    {0},
};
