/* walk.c - arc_walk: every regular file under a directory, in byte order of
 * relative path.
 *
 * Each directory is read whole, its entries classified (file, directory, or
 * passed over with a reason), then sorted with a directory's name compared as
 * if it ended in '/': that makes depth-first order equal to the byte order of
 * the full relative paths ("a.txt" < "a/b" because '.' < '/'), which the
 * importer relies on to resume after the last path it finished.
 *
 * A symbolic link is followed only when its realpath lies inside the root's,
 * and every directory is entered once (a set of dev+inode), so links cannot
 * lead out of the tree or round in a loop. A directory reached through a link
 * is walked under the link's name; if the walk meets it again later under its
 * own name, it is passed over as already walked. (The tree is assumed not to
 * be changed by someone hostile during the walk: a link swapped between the
 * check and the opendir is not guarded against.)
 *
 * Paths are built in one PATH_MAX buffer; an entry whose path would not fit
 * is passed over with a reason, never cut short.
 */
#include "arc/arc_internal.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_DEPTH 64

/* ---- a set of directories already entered ---------------------------------- */

typedef struct dir_id {
    dev_t dev;
    ino_t ino;
    int used;
} dir_id;

typedef struct dir_set {
    dir_id *slot;
    size_t cap, count; /* cap a power of two, at most half full */
} dir_set;

static size_t dir_hash(dev_t dev, ino_t ino, size_t cap)
{
    uint64_t h = ((uint64_t)ino ^ ((uint64_t)dev << 32 | (uint64_t)dev >> 32)) *
                 UINT64_C(0x9e3779b97f4a7c15);
    return (size_t)(h >> 17) & (cap - 1);
}

/* Returns 1 if newly added, 0 if already there, -1 out of memory. */
static int dir_set_add(dir_set *s, dev_t dev, ino_t ino)
{
    if (2 * (s->count + 1) > s->cap) {
        size_t ncap = s->cap ? 2 * s->cap : 64;
        dir_id *slot = calloc(ncap, sizeof *slot);
        if (!slot)
            return -1;
        for (size_t i = 0; i < s->cap; i++) {
            if (!s->slot[i].used)
                continue;
            size_t j = dir_hash(s->slot[i].dev, s->slot[i].ino, ncap);
            while (slot[j].used)
                j = (j + 1) & (ncap - 1);
            slot[j] = s->slot[i];
        }
        free(s->slot);
        s->slot = slot;
        s->cap = ncap;
    }
    size_t j = dir_hash(dev, ino, s->cap);
    for (; s->slot[j].used; j = (j + 1) & (s->cap - 1))
        if (s->slot[j].dev == dev && s->slot[j].ino == ino)
            return 0;
    s->slot[j] = (dir_id){dev, ino, 1};
    s->count++;
    return 1;
}

/* ---- the walk ------------------------------------------------------------------ */

typedef struct walker {
    arc_walk_fn fn;
    arc_walk_skip_fn skip;
    void *ctx;
    char *path;          /* PATH_MAX bytes: the entry being looked at */
    size_t rel_at;       /* where the relative path starts in path */
    const char *real_root;
    size_t real_len;
    dir_set seen;
} walker;

enum item_kind { ITEM_FILE, ITEM_DIR, ITEM_PASS };

typedef struct item {
    char *name;
    enum item_kind kind;
    struct stat st;      /* of the file or directory (a link's target) */
    char *why;           /* ITEM_PASS: the reason, owned */
} item;

/* Put dir/name into w->path after the plen bytes of dir. Returns the new
 * length, or 0 when it would not fit in PATH_MAX. */
static size_t join(walker *w, size_t plen, const char *name)
{
    size_t sep = plen > 0 && w->path[plen - 1] != '/';
    size_t nlen = strlen(name);
    if (plen + sep + nlen >= PATH_MAX)
        return 0;
    if (sep)
        w->path[plen] = '/';
    memcpy(w->path + plen + sep, name, nlen + 1);
    return plen + sep + nlen;
}

static void pass(item *it, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void pass(item *it, const char *fmt, ...)
{
    char why[PATH_MAX + 128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    it->kind = ITEM_PASS;
    it->why = strdup(why); /* NULL: reported as "(out of memory)" */
}

static const char *type_name(mode_t mode)
{
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISSOCK(mode))
        return "a socket";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    return "not a regular file";
}

/* Sort a file or directory the walk can use; anything else is passed over. */
static void take(item *it, const char *path, const char *via)
{
    if (S_ISDIR(it->st.st_mode)) {
        it->kind = ITEM_DIR;
    } else if (!S_ISREG(it->st.st_mode)) {
        pass(it, "%s%s", via, type_name(it->st.st_mode));
    } else if (access(path, R_OK) != 0) {
        pass(it, "the file cannot be read: %s", strerror(errno));
    } else {
        it->kind = ITEM_FILE;
    }
}

/* A symbolic link: followed only when it resolves inside the root. */
static void classify_link(walker *w, item *it)
{
    char *real = realpath(w->path, NULL);
    if (!real) {
        pass(it, "a symbolic link that leads nowhere: %s", strerror(errno));
        return;
    }
    size_t n = w->real_len;
    int inside = strncmp(real, w->real_root, n) == 0 &&
                 (real[n] == '/' || real[n] == '\0' || (n == 1 && w->real_root[0] == '/'));
    if (!inside)
        pass(it, "a symbolic link leading out of the root (to %s)", real);
    else if (stat(real, &it->st) != 0)
        pass(it, "a symbolic link to %s, which cannot be read: %s", real, strerror(errno));
    else
        take(it, real, "a symbolic link to ");
    free(real);
}

/* w->path holds the entry's path. */
static void classify(walker *w, item *it)
{
    if (lstat(w->path, &it->st) != 0)
        pass(it, "cannot be looked at: %s", strerror(errno));
    else if (S_ISLNK(it->st.st_mode))
        classify_link(w, it);
    else
        take(it, w->path, "");
}

/* Byte order of the relative paths the items lead to: a directory's name is
 * compared as if it ended in '/'. */
static int item_cmp(const void *pa, const void *pb)
{
    const item *a = pa, *b = pb;
    const unsigned char *x = (const unsigned char *)a->name, *y = (const unsigned char *)b->name;
    while (*x && *x == *y)
        x++, y++;
    int cx = *x ? *x : a->kind == ITEM_DIR ? '/' : 0;
    int cy = *y ? *y : b->kind == ITEM_DIR ? '/' : 0;
    if (cx != cy)
        return cx - cy;
    return strcmp(a->name, b->name);
}

static void report(walker *w, const char *path, const char *why)
{
    if (w->skip)
        w->skip(w->ctx, path, why ? why : "(out of memory describing why)");
}

/* Report dir/name when the joined path does not fit w->path. */
static void report_long(walker *w, size_t plen, const char *name)
{
    char why[128];
    snprintf(why, sizeof why, "its path is longer than PATH_MAX (%d bytes)", PATH_MAX);
    size_t nlen = strlen(name);
    char *full = malloc(plen + nlen + 2);
    if (full)
        snprintf(full, plen + nlen + 2, "%.*s/%s", (int)plen, w->path, name);
    report(w, full ? full : name, why);
    free(full);
}

static void free_items(item *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(items[i].name);
        free(items[i].why);
    }
    free(items);
}

/* All names in d (closed here), or -1 with *items NULL after reporting. */
static int read_names(walker *w, DIR *d, item **items, size_t *count)
{
    size_t n = 0, cap = 0;
    item *v = NULL;
    const char *fault = NULL;
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (!de) {
            if (errno)
                fault = strerror(errno);
            break;
        }
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (n == cap) {
            size_t ncap = cap ? 2 * cap : 32;
            item *bigger = realloc(v, ncap * sizeof *v);
            if (!bigger) {
                fault = "out of memory";
                break;
            }
            v = bigger;
            cap = ncap;
        }
        v[n] = (item){.name = strdup(de->d_name), .kind = ITEM_PASS};
        if (!v[n++].name) {
            fault = "out of memory";
            break;
        }
    }
    closedir(d);
    if (fault) {
        char why[256];
        snprintf(why, sizeof why, "the directory cannot be read: %s", fault);
        report(w, w->path, why);
        free_items(v, n);
        return -1;
    }
    *items = v;
    *count = n;
    return 0;
}

static int walk_dir(walker *w, DIR *d, size_t plen, int depth);

/* The directory it (at w->path, plen bytes) met in the walk at depth. */
static int enter(walker *w, item *it, size_t plen, int depth)
{
    if (depth > MAX_DEPTH) {
        char why[64];
        snprintf(why, sizeof why, "deeper than %d directory levels", MAX_DEPTH);
        report(w, w->path, why);
        return 0;
    }
    int added = dir_set_add(&w->seen, it->st.st_dev, it->st.st_ino);
    if (added <= 0) {
        report(w, w->path, added < 0 ? "out of memory"
                                     : "a directory already walked (a symbolic link loop, "
                                       "or a second link to it)");
        return 0;
    }
    DIR *sub = opendir(w->path);
    if (!sub) {
        char why[256];
        snprintf(why, sizeof why, "the directory cannot be opened: %s", strerror(errno));
        report(w, w->path, why);
        return 0;
    }
    return walk_dir(w, sub, plen, depth);
}

/* Walk the directory d at w->path (plen bytes). Returns 0 or the callback's
 * non-zero value. */
static int walk_dir(walker *w, DIR *d, size_t plen, int depth)
{
    item *items;
    size_t n;
    if (read_names(w, d, &items, &n) != 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (join(w, plen, items[i].name))
            classify(w, &items[i]);
    w->path[plen] = '\0';
    if (n > 1) /* items is NULL for an empty directory */
        qsort(items, n, sizeof *items, item_cmp);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        size_t len = join(w, plen, items[i].name);
        if (!len)
            report_long(w, plen, items[i].name);
        else if (items[i].kind == ITEM_FILE)
            rc = w->fn(w->ctx, w->path, w->path + w->rel_at, &items[i].st);
        else if (items[i].kind == ITEM_DIR)
            rc = enter(w, &items[i], len, depth + 1);
        else
            report(w, w->path, items[i].why);
        w->path[plen] = '\0';
    }
    free_items(items, n);
    return rc;
}

static int walk_root(walker *w, const char *root, ds_err *err)
{
    size_t plen = strlen(root);
    while (plen > 1 && root[plen - 1] == '/')
        plen--;
    if (plen >= PATH_MAX)
        return ds_fail(err, DS_EINVAL, "walking %.300s...: the path is too long", root);
    memcpy(w->path, root, plen);
    w->path[plen] = '\0';
    w->rel_at = plen + (w->path[plen - 1] != '/');
    struct stat st;
    if (stat(w->path, &st) != 0)
        return ds_fail(err, errno == ENOENT ? DS_ENOTFOUND : DS_EIO, "walking %s: %s", w->path,
                       strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return ds_fail(err, DS_EINVAL, "walking %s: not a directory", w->path);
    DIR *d = opendir(w->path);
    if (!d)
        return ds_fail(err, DS_EIO, "walking %s: %s", w->path, strerror(errno));
    if (dir_set_add(&w->seen, st.st_dev, st.st_ino) < 0) {
        closedir(d);
        return ds_fail(err, DS_ENOMEM, "walking %s: out of memory", w->path);
    }
    return walk_dir(w, d, plen, 0);
}

int arc_walk(const char *root, arc_walk_fn fn, arc_walk_skip_fn skip, void *ctx, ds_err *err)
{
    if (!root || !*root || !fn)
        return ds_fail(err, DS_EINVAL, "arc_walk: no root or no callback");
    walker w = {.fn = fn, .skip = skip, .ctx = ctx};
    char *real = realpath(root, NULL);
    if (!real)
        return ds_fail(err, errno == ENOENT ? DS_ENOTFOUND : DS_EIO, "walking %.300s: %s", root,
                       strerror(errno));
    w.real_root = real;
    w.real_len = strlen(real);
    w.path = malloc(PATH_MAX);
    int rc = w.path ? walk_root(&w, root, err)
                    : ds_fail(err, DS_ENOMEM, "walking %.300s: out of memory", root);
    free(w.path);
    free(w.seen.slot);
    free(real);
    return rc;
}
