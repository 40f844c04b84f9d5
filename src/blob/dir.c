/* dir.c - the directory blob store.
 *
 * Layout under the root: the blob "a/b/c.jpg" is the plain file
 * root/a/b/c.jpg, so the tree can be browsed, backed up or served as it is.
 * Beside each blob, a sidecar root/a/b/.c.jpg.meta records what blob_put
 * knew: the sha256 of the content (the etag), the content type, and the
 * inode, size and mtime (ns) of the file it describes. A sidecar is trusted
 * only while those three still match the file; otherwise (a crash between
 * the two renames of a put, a file copied in by hand) head and get re-hash
 * the content, so an etag is always the sha256 of what get returns. Keys
 * can never name a sidecar or a temporary file: both start with '.', which
 * no key segment may (blob.h).
 *
 * A put writes the content to root/a/b/.tmp-PID-N, fsyncs it, writes and
 * fsyncs the sidecar the same way, renames the sidecar, then renames the
 * content over its name (the commit point), then fsyncs the directory. A
 * crash leaves the old blob or the new one under the name, never a part;
 * it may leave a .tmp-* file, which list skips and blob_sweep removes once
 * its writer is gone (the import does, at its start).
 *
 * Directories are made as needed and never removed (an empty one lists
 * nothing). Unlike S3, "a" and "a/b" cannot both be blobs: the second put
 * fails with DS_EINVAL. Symbolic links inside the root are followed by get
 * and head but not listed. Every path is opened relative to one descriptor
 * of the root, so the process's working directory does not matter.
 */
#include "blob/blob_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <signal.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/sha256.h"

typedef struct dir_store {
    blob_store base; /* first: a dir_store * is a blob_store * */
    int rootfd;
    char *root;      /* for messages */
    time_t opened;   /* when this process opened the store (see dir_sweep) */
} dir_store;

/* Room for a key plus the decorations of sidecar and temporary names. */
#define PATH_CAP (BLOB_KEY_MAX + 64)
#define META_MAX 1024 /* a sidecar is well under this */

static atomic_ulong tmp_counter;

/* ---- small helpers --------------------------------------------------------- */

static int sys_fail(ds_err *err, const dir_store *d, const char *what, const char *key)
{
    int e = errno;
    /* A full disk is not a broken one: callers stop instead of going on
     * to fail every further write the same way. */
    ds_code code = e == ENOMEM ? DS_ENOMEM
                 : e == ENOSPC || e == EDQUOT || e == EFBIG ? DS_ENOSPACE
                                                           : DS_EIO;
    return ds_fail(err, code, "blob store %s: %s \"%s\": %s", d->root, what, key, strerror(e));
}

static int not_found(ds_err *err, const dir_store *d, const char *key)
{
    return ds_fail(err, DS_ENOTFOUND, "blob \"%s\" not found in %s", key, d->root);
}

/* Split key into its directory part ("a/b", or "" at the top) and base. */
static void split(const char *key, char dir[PATH_CAP], const char **base)
{
    const char *slash = strrchr(key, '/');
    size_t n = slash ? (size_t)(slash - key) : 0;
    memcpy(dir, key, n);
    dir[n] = '\0';
    *base = slash ? slash + 1 : key;
}

/* The sidecar's path relative to the root: "a/b/.c.jpg.meta". */
static void meta_path(const char *key, char out[PATH_CAP])
{
    char dir[PATH_CAP];
    const char *base;
    split(key, dir, &base);
    /* Always fits: a key is at most BLOB_KEY_MAX bytes. */
    if (snprintf(out, PATH_CAP, "%s%s.%s.meta", dir, *dir ? "/" : "", base) >= PATH_CAP)
        out[0] = '\0';
}

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Read exactly len bytes; -1 with errno set (EIO for a file that shrank). */
static int read_all(int fd, void *data, size_t len)
{
    char *p = data;
    while (len > 0) {
        ssize_t r = read(fd, p, len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0) {
            errno = EIO;
            return -1;
        }
        p += r;
        len -= (size_t)r;
    }
    return 0;
}

static int fsync_dir_at(int rootfd, const char *dir)
{
    int fd = *dir ? openat(rootfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : rootfd;
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    if (fd != rootfd) {
        int e = errno;
        close(fd);
        errno = e;
    }
    return rc;
}

/* Make every directory above key ("a", "a/b" for "a/b/c"), syncing the
 * parent of each one made so that it survives a crash. */
static int make_parents(dir_store *d, const char *key, ds_err *err)
{
    char path[PATH_CAP];
    for (const char *p = strchr(key, '/'); p; p = strchr(p + 1, '/')) {
        size_t n = (size_t)(p - key);
        memcpy(path, key, n);
        path[n] = '\0';
        if (mkdirat(d->rootfd, path, 0777) == 0) {
            char parent[PATH_CAP];
            const char *base;
            split(path, parent, &base);
            if (fsync_dir_at(d->rootfd, parent) != 0)
                return sys_fail(err, d, "syncing the parent of directory", path);
            continue;
        }
        struct stat st;
        if (errno != EEXIST)
            return sys_fail(err, d, "making directory", path);
        if (fstatat(d->rootfd, path, &st, 0) != 0)
            return sys_fail(err, d, "checking directory", path);
        if (!S_ISDIR(st.st_mode))
            return ds_fail(err, DS_EINVAL, "blob key \"%s\": \"%s\" is a blob, not a directory "
                           "(a directory store cannot hold both)", key, path);
    }
    return 0;
}

/* Create a fresh temporary file in dir (relative to the root); its path goes
 * to out. Returns the descriptor, or -1 with errno. */
static int make_temp(dir_store *d, const char *dir, char out[PATH_CAP])
{
    for (int tries = 0; tries < 100; tries++) {
        unsigned long n = atomic_fetch_add(&tmp_counter, 1);
        if (snprintf(out, PATH_CAP, "%s%s.tmp-%ld-%lu", dir, *dir ? "/" : "", (long)getpid(),
                     n) >= PATH_CAP)
            break;
        int fd = openat(d->rootfd, out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    errno = EEXIST;
    return -1;
}

/* Write data to a new temporary file in dir and sync it; its path goes to
 * tmp and its stat to st. */
static int write_temp(dir_store *d, const char *dir, const char *key, const void *data,
                      size_t len, char tmp[PATH_CAP], struct stat *st, ds_err *err)
{
    int fd = make_temp(d, dir, tmp);
    if (fd < 0) {
        tmp[0] = '\0';
        return sys_fail(err, d, "creating a temporary file for", key);
    }
    int rc = -1;
    if (write_all(fd, data, len) != 0)
        sys_fail(err, d, "writing", key);
    else if (fsync(fd) != 0)
        sys_fail(err, d, "syncing", key);
    else if (st && fstat(fd, st) != 0)
        sys_fail(err, d, "checking", key);
    else
        rc = 0;
    close(fd);
    return rc;
}

/* ---- sidecars -------------------------------------------------------------- */

typedef struct meta {
    char etag[DS_SHA256_HEXLEN + 1];
    char ctype[BLOB_CTYPE_MAX];
    uint64_t size, ino;
    int64_t mtime_ns;
} meta;

static int64_t mtime_ns(const struct stat *st)
{
    return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

static int meta_format(const meta *m, char *buf, size_t cap)
{
    int n = snprintf(buf, cap,
                     "dinoseek-blob 1\nsha256 %s\nsize %" PRIu64 "\nino %" PRIu64
                     "\nmtime_ns %" PRId64 "\ncontent-type %s\n",
                     m->etag, m->size, m->ino, m->mtime_ns, m->ctype);
    return n > 0 && (size_t)n < cap ? n : -1;
}

/* Parse a sidecar; 0 when every field is there and well-formed. */
static int meta_parse(const char *s, meta *m)
{
    char ct[BLOB_CTYPE_MAX];
    int used = 0;
    memset(m, 0, sizeof *m);
    if (sscanf(s, "dinoseek-blob 1\nsha256 %64[0-9a-f]\nsize %" SCNu64 "\nino %" SCNu64
                  "\nmtime_ns %" SCNd64 "\ncontent-type %n",
               m->etag, &m->size, &m->ino, &m->mtime_ns, &used) != 4 || used == 0)
        return -1;
    if (strlen(m->etag) != DS_SHA256_HEXLEN)
        return -1;
    const char *p = s + used, *nl = strchr(p, '\n');
    size_t n = nl ? (size_t)(nl - p) : 0;
    if (!nl || n == 0 || n >= sizeof ct)
        return -1;
    memcpy(m->ctype, p, n);
    m->ctype[n] = '\0';
    return 0;
}

/* Fill info for the open blob file fd (already fstat'ed into st): from the
 * sidecar when it describes this very file, else by hashing the content
 * (data, when the caller has it in memory, or by reading fd). */
static int fill_info(dir_store *d, const char *key, int fd, const struct stat *st,
                     const void *data, blob_info *info, ds_err *err)
{
    char path[PATH_CAP], buf[META_MAX];
    meta m;
    memset(info, 0, sizeof *info);
    info->size = (uint64_t)st->st_size;
    info->mtime = (int64_t)st->st_mtim.tv_sec;
    meta_path(key, path);
    int mfd = openat(d->rootfd, path, O_RDONLY | O_CLOEXEC);
    if (mfd >= 0) {
        ssize_t n = read(mfd, buf, sizeof buf - 1);
        close(mfd);
        buf[n > 0 ? n : 0] = '\0';
        if (n > 0 && meta_parse(buf, &m) == 0 && m.ino == (uint64_t)st->st_ino &&
            m.size == info->size && m.mtime_ns == mtime_ns(st)) {
            memcpy(info->etag, m.etag, sizeof m.etag);
            memcpy(info->content_type, m.ctype, sizeof m.ctype);
            return 0;
        }
    }
    /* No trustworthy sidecar: the content decides. */
    uint8_t digest[DS_SHA256_LEN];
    snprintf(info->content_type, sizeof info->content_type, "%s", BLOB_DEFAULT_CTYPE);
    if (data) {
        ds_sha256_buf(data, (size_t)st->st_size, digest);
    } else {
        ds_sha256 h;
        char chunk[65536];
        ds_sha256_init(&h);
        if (lseek(fd, 0, SEEK_SET) < 0)
            return sys_fail(err, d, "reading", key);
        for (;;) {
            ssize_t r = read(fd, chunk, sizeof chunk);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0)
                return sys_fail(err, d, "reading", key);
            if (r == 0)
                break;
            ds_sha256_update(&h, chunk, (size_t)r);
        }
        ds_sha256_final(&h, digest);
    }
    ds_sha256_hex(digest, info->etag);
    return 0;
}

/* ---- operations ------------------------------------------------------------ */

static int dir_put(blob_store *s, const char *key, const void *data, size_t len,
                   const char *content_type, ds_err *err)
{
    dir_store *d = (dir_store *)s;
    char dir[PATH_CAP], tmp[PATH_CAP] = "", mtmp[PATH_CAP] = "", mpath[PATH_CAP];
    char mbuf[META_MAX];
    const char *base;
    struct stat st;
    meta m;
    int rc = -1, mlen;
    uint8_t digest[DS_SHA256_LEN];

    split(key, dir, &base);
    meta_path(key, mpath);
    if (make_parents(d, key, err) != 0)
        goto out;
    if (write_temp(d, dir, key, data, len, tmp, &st, err) != 0)
        goto out;
    memset(&m, 0, sizeof m);
    ds_sha256_buf(data, len, digest);
    ds_sha256_hex(digest, m.etag);
    snprintf(m.ctype, sizeof m.ctype, "%s", content_type);
    m.size = (uint64_t)st.st_size;
    m.ino = (uint64_t)st.st_ino;
    m.mtime_ns = mtime_ns(&st);
    mlen = meta_format(&m, mbuf, sizeof mbuf);
    if (mlen < 0) {
        ds_fail(err, DS_EINVAL, "blob \"%s\": sidecar too long", key);
        goto out;
    }
    if (write_temp(d, dir, key, mbuf, (size_t)mlen, mtmp, NULL, err) != 0)
        goto out;
    if (renameat(d->rootfd, mtmp, d->rootfd, mpath) != 0) {
        sys_fail(err, d, "renaming the sidecar of", key);
        goto out;
    }
    mtmp[0] = '\0';
    /* The commit point: the name now holds the new content. */
    if (renameat(d->rootfd, tmp, d->rootfd, key) != 0) {
        if (errno == EISDIR || errno == ENOTEMPTY || errno == EEXIST)
            ds_fail(err, DS_EINVAL, "blob key \"%s\" is a directory of other blobs in %s",
                    key, d->root);
        else
            sys_fail(err, d, "renaming into place", key);
        unlinkat(d->rootfd, mpath, 0);
        goto out;
    }
    tmp[0] = '\0';
    if (fsync_dir_at(d->rootfd, dir) != 0) {
        sys_fail(err, d, "syncing the directory of", key);
        goto out;
    }
    rc = 0;
out:
    if (tmp[0])
        unlinkat(d->rootfd, tmp, 0);
    if (mtmp[0])
        unlinkat(d->rootfd, mtmp, 0);
    return rc;
}

/* Open key for reading and stat it; DS_ENOTFOUND unless it is a file. */
static int open_blob(dir_store *d, const char *key, struct stat *st, ds_err *err)
{
    int fd = openat(d->rootfd, key, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return not_found(err, d, key), -1;
        return sys_fail(err, d, "opening", key), -1;
    }
    if (fstat(fd, st) != 0) {
        sys_fail(err, d, "checking", key);
        close(fd);
        return -1;
    }
    if (!S_ISREG(st->st_mode)) {
        close(fd);
        return not_found(err, d, key), -1;
    }
    return fd;
}

static int dir_get(blob_store *s, const char *key, void **data, size_t *len, blob_info *info,
                   ds_err *err)
{
    dir_store *d = (dir_store *)s;
    struct stat st;
    char *buf = NULL;
    int rc = -1;
    int fd = open_blob(d, key, &st, err);
    if (fd < 0)
        return -1;
    if ((uint64_t)st.st_size >= SIZE_MAX) {
        ds_fail(err, DS_ETOOBIG, "blob \"%s\" is too large to read into memory", key);
        goto out;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        ds_fail(err, DS_ENOMEM, "reading blob \"%s\" (%lld bytes): out of memory", key,
                (long long)st.st_size);
        goto out;
    }
    if (read_all(fd, buf, (size_t)st.st_size) != 0) {
        sys_fail(err, d, "reading", key);
        goto out;
    }
    buf[st.st_size] = '\0';
    if (info && fill_info(d, key, fd, &st, buf, info, err) != 0)
        goto out;
    *data = buf;
    *len = (size_t)st.st_size;
    buf = NULL;
    rc = 0;
out:
    free(buf);
    close(fd);
    return rc;
}

static int dir_head(blob_store *s, const char *key, blob_info *info, ds_err *err)
{
    dir_store *d = (dir_store *)s;
    struct stat st;
    int fd = open_blob(d, key, &st, err);
    if (fd < 0)
        return -1;
    int rc = fill_info(d, key, fd, &st, NULL, info, err);
    close(fd);
    return rc;
}

static int dir_del(blob_store *s, const char *key, ds_err *err)
{
    dir_store *d = (dir_store *)s;
    char mpath[PATH_CAP], dir[PATH_CAP];
    const char *base;
    struct stat st;

    if (fstatat(d->rootfd, key, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return not_found(err, d, key);
        return sys_fail(err, d, "checking", key);
    }
    if (S_ISDIR(st.st_mode))
        return not_found(err, d, key);
    if (unlinkat(d->rootfd, key, 0) != 0) {
        if (errno == ENOENT)
            return not_found(err, d, key);
        return sys_fail(err, d, "deleting", key);
    }
    meta_path(key, mpath);
    unlinkat(d->rootfd, mpath, 0); /* a stale sidecar would be ignored anyway */
    split(key, dir, &base);
    if (fsync_dir_at(d->rootfd, dir) != 0)
        return sys_fail(err, d, "syncing the directory of", key);
    return 0;
}

/* ---- listing --------------------------------------------------------------- */

/* One directory entry: s is the name, with a '/' appended for a directory
 * so that sorting by s sorts by full key ("a-c" < "a/b", as in S3). */
typedef struct entry {
    char *s;
    size_t n; /* the name's length, without the '/' */
    int isdir;
    struct stat st;
} entry;

typedef struct walk {
    dir_store *d;
    blob_list_fn fn;
    void *ctx;
    int stopped;
    ds_err *err;
} walk;

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const entry *)a)->s, ((const entry *)b)->s);
}

static void entries_free(entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(e[i].s);
    free(e);
}

/* Read the entries of dir (relative to the root; "" for the root) whose name
 * starts with partial and is a possible key segment, sorted. A missing
 * directory has none. */
static int read_entries(walk *w, const char *dir, const char *partial, entry **out,
                        size_t *count)
{
    dir_store *d = w->d;
    entry *e = NULL;
    size_t n = 0, cap = 0, plen = strlen(partial);
    int rc = -1;
    DIR *dh = NULL;
    int fd = openat(d->rootfd, *dir ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    *out = NULL;
    *count = 0;
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return 0;
        return sys_fail(w->err, d, "listing", dir);
    }
    dh = fdopendir(fd);
    if (!dh) {
        sys_fail(w->err, d, "listing", dir);
        close(fd);
        return -1;
    }
    for (struct dirent *de; (errno = 0, de = readdir(dh)) != NULL;) {
        const char *name = de->d_name;
        size_t len = strlen(name);
        struct stat st;
        ds_err scratch;
        if (name[0] == '.' || strncmp(name, partial, plen) != 0 ||
            blob_key_check_n(name, len, &scratch) != 0 || strchr(name, '/'))
            continue;
        if (fstatat(dirfd(dh), name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue; /* deleted meanwhile */
        if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
            continue; /* links, fifos, sockets: never made by a store */
        if (n == cap) {
            size_t ncap = cap ? 2 * cap : 16;
            entry *t = realloc(e, ncap * sizeof *e);
            if (!t)
                goto nomem;
            e = t;
            cap = ncap;
        }
        e[n].s = malloc(len + 2);
        if (!e[n].s)
            goto nomem;
        memcpy(e[n].s, name, len);
        e[n].isdir = S_ISDIR(st.st_mode);
        e[n].s[len] = e[n].isdir ? '/' : '\0';
        e[n].s[len + 1] = '\0';
        e[n].n = len;
        e[n].st = st;
        n++;
    }
    if (errno != 0) {
        sys_fail(w->err, d, "listing", dir);
        goto out;
    }
    if (n > 1)
        qsort(e, n, sizeof *e, entry_cmp);
    *out = e;
    *count = n;
    e = NULL;
    n = 0;
    rc = 0;
    goto out;
nomem:
    ds_fail(w->err, DS_ENOMEM, "listing %s: out of memory", *dir ? dir : d->root);
out:
    entries_free(e, n);
    closedir(dh);
    return rc;
}

/* List dir (a key prefix ending before its '/', or "" for the root), keeping
 * only top-level names that start with partial. One descriptor is open at a
 * time: entries are read, the directory closed, then children visited. */
static int walk_dir(walk *w, const char *dir, const char *partial)
{
    entry *e = NULL;
    size_t n = 0;
    int rc = -1;
    char key[PATH_CAP];
    if (read_entries(w, dir, partial, &e, &n) != 0)
        return -1;
    for (size_t i = 0; i < n && !w->stopped; i++) {
        int kn = snprintf(key, sizeof key, "%s%s%.*s", dir, *dir ? "/" : "", (int)e[i].n,
                          e[i].s);
        if (kn < 0 || (size_t)kn > BLOB_KEY_MAX)
            continue; /* deeper than any key can reach */
        if (e[i].isdir) {
            if (walk_dir(w, key, "") != 0)
                goto out;
            continue;
        }
        blob_info info;
        memset(&info, 0, sizeof info);
        info.size = (uint64_t)e[i].st.st_size;
        info.mtime = (int64_t)e[i].st.st_mtim.tv_sec;
        if (w->fn(w->ctx, key, &info) != 0)
            w->stopped = 1;
    }
    rc = 0;
out:
    entries_free(e, n);
    return rc;
}

static int dir_list(blob_store *s, const char *prefix, blob_list_fn fn, void *ctx, ds_err *err)
{
    walk w = {(dir_store *)s, fn, ctx, 0, err};
    char dir[PATH_CAP];
    const char *partial;
    split(prefix, dir, &partial);
    return walk_dir(&w, dir, partial);
}

/* ---- opening and closing --------------------------------------------------- */

static void dir_free(blob_store *s)
{
    dir_store *d = (dir_store *)s;
    if (d->rootfd >= 0)
        close(d->rootfd);
    free(d->root);
    free(d);
}

/* ---- sweeping what crashed puts left ------------------------------------------ */

/* Whether the temporary file `name` (".tmp-PID-N", see make_temp) in the
 * open directory dfd was left by a writer that is gone. Its PID says whose
 * it is: another process's is stale once that process no longer exists;
 * one with our own PID (a restart reusing the PID of the process that
 * crashed, as in a container where we are always PID 1) only when it is
 * older than this store, since our own threads may be writing the others. */
static int temp_is_stale(const dir_store *d, int dfd, const char *name)
{
    char *end;
    if (strncmp(name, ".tmp-", 5) != 0)
        return 0;
    errno = 0;
    long pid = strtol(name + 5, &end, 10);
    if (errno || end == name + 5 || *end != '-' || pid <= 0)
        return 0;
    if (pid != (long)getpid())
        return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
    struct stat st;
    return fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_mtime < d->opened;
}

static int dir_sweep(blob_store *s, const char *dir, size_t *removed, ds_err *err)
{
    dir_store *d = (dir_store *)s;
    int dfd = openat(d->rootfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return errno == ENOENT ? 0 : sys_fail(err, d, "opening the directory", dir);
    DIR *list = fdopendir(dfd);
    if (!list) {
        close(dfd);
        return sys_fail(err, d, "reading the directory", dir);
    }
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(list))) {
        if (!temp_is_stale(d, dfd, de->d_name))
            continue;
        if (unlinkat(dfd, de->d_name, 0) == 0)
            ++*removed;
        else if (errno != ENOENT) /* another sweeper was first */
            rc = sys_fail(err, d, "removing a leftover temporary file in", dir);
    }
    closedir(list);
    return rc;
}

static const blob_methods dir_methods = {
    .version = 1,
    .name = "dir",
    .put = dir_put,
    .get = dir_get,
    .head = dir_head,
    .del = dir_del,
    .list = dir_list,
    .free = dir_free,
    .sweep = dir_sweep,
};

/* mkdir -p root. */
static int make_root(const char *root, ds_err *err)
{
    size_t n = strlen(root);
    char *path = malloc(n + 1);
    int rc = -1;
    if (!path)
        return ds_fail(err, DS_ENOMEM, "blob store %s: out of memory", root);
    memcpy(path, root, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char c = path[i];
        path[i] = '\0';
        if (mkdir(path, 0777) != 0 && errno != EEXIST) {
            ds_fail(err, DS_EIO, "blob store %s: making directory %s: %s", root, path,
                    strerror(errno));
            goto out;
        }
        path[i] = c;
    }
    rc = 0;
out:
    free(path);
    return rc;
}

int blob_dir_open(const char *root, blob_store **out, ds_err *err)
{
    dir_store *d = NULL;
    if (!out)
        return ds_fail(err, DS_EINVAL, "blob_dir_open: no place for the store");
    *out = NULL;
    if (!root || !*root)
        return ds_fail(err, DS_EINVAL, "blob store: no directory given");
    if (make_root(root, err) != 0)
        return -1;
    d = calloc(1, sizeof *d);
    if (d)
        d->rootfd = -1;
    if (!d || !(d->root = strdup(root))) {
        ds_fail(err, DS_ENOMEM, "blob store %s: out of memory", root);
        goto fail;
    }
    d->base.m = &dir_methods;
    d->opened = time(NULL);
    d->rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d->rootfd < 0) {
        ds_fail(err, errno == ENOTDIR ? DS_EINVAL : DS_EIO, "blob store %s: %s", root,
                errno == ENOTDIR ? "not a directory" : strerror(errno));
        goto fail;
    }
    if (faccessat(d->rootfd, ".", W_OK | X_OK, AT_EACCESS) != 0) {
        ds_fail(err, DS_EIO, "blob store %s: not writable: %s", root, strerror(errno));
        goto fail;
    }
    *out = &d->base;
    return 0;
fail:
    if (d)
        dir_free(&d->base);
    return -1;
}
