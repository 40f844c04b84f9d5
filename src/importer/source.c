/* source.c - every form the input comes in, turned into items.
 *
 *   directory   walked in sorted order (arc_walk: symlinks only inside it)
 *   *.xml       USPTO grant XML, single or weekly concatenation: each design
 *               document becomes one item per drawing it names, the
 *               drawings read from beside the XML
 *   archives    tar / zip (compressed or not), streamed; a ZIP inside a tar
 *               (DESIGN/USD*.ZIP of the weekly bulk archive) is opened from
 *               memory. Members are taken a directory at a time, so that an
 *               XML finds its drawings whichever comes first
 *   images      plain images: the file name is the id (meta.c)
 *
 * Utility, plant and reissue documents are counted and passed over. A
 * drawing an XML names but the input lacks is recorded as a failure; its
 * patent is still stored.
 */
#include "importer/importer_internal.h"
#include "base/str.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arc/arc.h"
#include "base/sha256.h"
#include "base/str.h"

#define MAX_IMAGE_BYTES (256u << 20)  /* one drawing or photo */
#define GROUP_MAX_BYTES (512u << 20)  /* members of one archive directory held at once */
/* Members of one archive directory held at once: a zip may hold a week's
 * drawings and XML side by side in one directory, thousands of them, and an
 * XML must find its drawings whichever end of it they are at. The bytes
 * are what bound the memory. */
#define GROUP_MAX_MEMBERS (1u << 18)
/* Archives opened inside archives: a zip wrapping the weekly tar of ZIPs is
 * two deep. Deeper ones are failures, not opened (each level is read whole
 * into memory). */
#define MAX_NESTING 2

/* ---- names ---------------------------------------------------------------- */

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static int is_image(const char *name) { return imp_kind_of(name) == IMP_IMAGE; }
static int is_xml(const char *name) { return imp_kind_of(name) == IMP_XML; }
static int is_archive(const char *name) { return imp_kind_of(name) == IMP_ARCHIVE; }

static int is_metadata(const char *name)
{
    return strcmp(name, "metadata.csv") == 0 || strcmp(name, "metadata.json") == 0;
}

/* ---- items ------------------------------------------------------------------- */

static imp_item *new_item(const char *file_name, const char *origin)
{
    imp_item *it = calloc(1, sizeof *it);
    if (!it)
        return NULL;
    it->file_name = strdup(file_name);
    it->origin = strdup(origin);
    if (!it->file_name || !it->origin) {
        imp_item_free(it);
        return NULL;
    }
    return it;
}

/* Give data (malloc'ed, taken over) to a new item and emit it. */
static int emit_image(imp_ctx *x, imp_patent *p, const char *patent_id, int index,
                      const char *file_name, const char *origin, void *data, size_t len)
{
    imp_item *it = new_item(file_name, origin);
    if (!it || (patent_id && *patent_id && !(it->patent_id = strdup(patent_id)))) {
        free(data);
        imp_item_free(it);
        imp__fail(x, origin, "out of memory");
        return imp__stopping(x) ? -1 : 0;
    }
    it->patent = imp_patent_ref(p);
    it->image_index = index;
    it->data = data;
    it->len = len;
    if (!x->opt->dry_run) { /* a dry run (and the count beside an import) only counts */
        uint8_t digest[DS_SHA256_LEN];
        ds_sha256_buf(data, len, digest);
        ds_sha256_hex(digest, it->hash);
    }
    return imp__emit(x, it);
}

/* sheet_zero: the D00000 sheet of the image's patent is beside it. */
static int emit_plain(imp_ctx *x, const char *name, int sheet_zero, const char *origin,
                      void *data, size_t len)
{
    imp_patent *p = NULL;
    char id[128];
    int index = -1;
    ds_err why = {0};
    if (imp_meta_describe(x->meta, name, sheet_zero, &p, id, sizeof id, &index, &why) != 0) {
        imp__fail(x, origin, why.msg);
        free(data);
        return 0;
    }
    /* The shard follows the patent, so that its drawings stay together. */
    if (!imp__mine(x, p && p->p.patent_id ? p->p.patent_id : *id ? id : name)) {
        imp_patent_unref(p);
        free(data);
        return 0;
    }
    int rc = emit_image(x, p, p ? NULL : id, index < 0 ? 0 : index, name, origin, data, len);
    imp_patent_unref(p);
    return rc;
}

/* ---- files on disk ------------------------------------------------------------ */

/* Open a file that may be a symbolic link: followed when within is NULL
 * (the walk, or the check of the command line, already found it inside),
 * else only when it resolves inside within (a drawing an XML names may be a
 * link, which nothing checked yet). */
static int open_within(const char *path, const char *within, ds_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | (within ? O_NOFOLLOW : 0));
    if (fd >= 0 || errno != ELOOP || !within)
        return fd >= 0 ? fd
                       : ds_fail(err, errno == ENOENT ? DS_ENOTFOUND : DS_EIO, "%s",
                                 strerror(errno));
    char real[PATH_MAX];
    if (!realpath(path, real))
        return ds_fail(err, DS_EIO, "a symbolic link that leads nowhere: %s", strerror(errno));
    if (!imp_path_inside(real, within))
        return ds_fail(err, DS_EINVAL, "a symbolic link leading out of the imported folder (to %s)",
                       real);
    fd = open(real, O_RDONLY | O_CLOEXEC);
    return fd >= 0 ? fd : ds_fail(err, DS_EIO, "%s", strerror(errno));
}

static int read_whole(const char *path, const char *within, size_t max, void **data,
                      size_t *len, ds_err *err)
{
    *data = NULL;
    *len = 0;
    int fd = open_within(path, within, err);
    struct stat st;
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return ds_fail(err, DS_EIO, "not a regular file");
    }
    if ((uint64_t)st.st_size > max) {
        close(fd);
        return ds_fail(err, DS_ETOOBIG, "%lld bytes, over the %zu-byte limit",
                       (long long)st.st_size, max);
    }
    size_t n = (size_t)st.st_size, got = 0;
    char *buf = malloc(n + 1);
    if (!buf) {
        close(fd);
        return ds_fail(err, DS_ENOMEM, "out of memory");
    }
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            int e = r < 0 ? errno : EIO;
            close(fd);
            free(buf);
            return ds_fail(err, DS_EIO, "read failed: %s", r < 0 ? strerror(e) : "file shrank");
        }
        got += (size_t)r;
    }
    close(fd);
    buf[n] = 0;
    *data = buf;
    *len = n;
    return 0;
}

/* ---- XML documents --------------------------------------------------------- */

/* Where the drawings a document names are found: beside the XML on disk,
 * or among the members of its archive directory. */
typedef struct group group;
typedef struct doc_ctx {
    imp_ctx *x;
    const char *origin;          /* the XML's name, for messages */
    const char *dir;             /* on disk: the XML's directory */
    group *g;                    /* in an archive: its directory's members */
    int weekly;                  /* a file of many documents (ipgYYMMDD.xml,
                                    on disk or in its zip): the text of a
                                    week, its drawings shipped apart */
    double callback_ms;          /* time spent in the callback, not parsing */
} doc_ctx;

static int find_in_group(group *g, const char *figure, void **data, size_t *len);

/* The drawings of a document that is not read further (another shard's
 * patent, or --metadata-only) are still its own: taken out of the archive
 * directory's members so that they are not imported as plain images, as
 * the walk of a folder leaves the drawings an XML names. */
static void claim_in_group(group *g, const us_grant *gr)
{
    for (int i = 0; g && i < gr->n_figures; i++) {
        void *data = NULL;
        size_t len = 0;
        if (find_in_group(g, gr->figures[i], &data, &len))
            free(data);
    }
}

/* The drawing file beside the XML: the exact name, else the one that
 * differs only in case (the XML says .TIF, the disk may say .tif). */
static int find_on_disk(const char *dir, const char *within, const char *figure, void **data,
                        size_t *len, ds_err *err)
{
    char path[PATH_MAX];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, figure) >= sizeof path)
        return ds_fail(err, DS_EINVAL, "path too long");
    if (read_whole(path, within, MAX_IMAGE_BYTES, data, len, err) == 0 ||
        err->code != DS_ENOTFOUND)
        return *data ? 0 : -1;
    DIR *d = opendir(dir);
    struct dirent *de;
    int rc = ds_fail(err, DS_ENOTFOUND, "not found beside the XML");
    while (d && (de = readdir(d)))
        if (strcasecmp(de->d_name, figure) == 0) {
            rc = ds_snprintf(path, sizeof path, err, "%s/%s", dir, de->d_name) != 0
                     ? -1
                     : read_whole(path, within, MAX_IMAGE_BYTES, data, len, err);
            break;
        }
    if (d)
        closedir(d);
    return rc;
}

static int on_doc(void *ctx, const us_doc *d)
{
    doc_ctx *dc = ctx;
    imp_ctx *x = dc->x;
    double t0 = imp_now_ms();
    char what[1200];
    snprintf(what, sizeof what, "%s#%d", dc->origin, d->index + 1);
    int rc = 0;
    if (!d->grant) {
        if (us_doc_passed_over(d))
            imp__count_other_doc(x); /* a sequence listing */
        else
            imp__fail(x, what, d->error->msg);
        goto out;
    }
    const us_grant *gr = d->grant;
    if (gr->type != US_DESIGN) {
        imp__count_other_doc(x);
        goto out;
    }
    imp_patent *p = imp_patent_from_grant(gr);
    if (!p) {
        imp__fail(x, what, gr->patent_id ? "out of memory" : "no patent number");
        goto out;
    }
    if (!imp__mine(x, p->p.patent_id)) {
        imp_patent_unref(p);    /* another machine's: its drawings are not read */
        claim_in_group(dc->g, gr);
        goto out;
    }
    if (x->opt->metadata_only)
        claim_in_group(dc->g, gr);
    imp__count_patent(x);
    int emitted = 0;
    for (int i = 0; i < gr->n_figures && rc == 0 && !x->opt->metadata_only; i++) {
        const char *fig = gr->figures[i];
        char fwhat[1400];
        snprintf(fwhat, sizeof fwhat, "%s: %s", what, fig);
        ds_err why = {0};
        /* A name from the document is only a name: never a path. */
        if (strchr(fig, '/') || strchr(fig, '\\') || arc_name_check(fig, &why) != 0) {
            imp__fail(x, fwhat, why.code ? why.msg : "a drawing's name may not hold a path");
            continue;
        }
        void *data = NULL;
        size_t len = 0;
        int found = dc->g ? find_in_group(dc->g, fig, &data, &len)
                          : find_on_disk(dc->dir, x->input_root, fig, &data, &len, &why) == 0;
        if (!found && dc->weekly && (dc->g || why.code == DS_ENOTFOUND)) {
            imp__count_absent(x); /* the text of a week; its drawings come apart */
            continue;
        }
        if (!found) {
            imp__fail(x, fwhat, dc->g ? "the drawing is not in the archive" : why.msg);
            continue;
        }
        char origin[1400];
        snprintf(origin, sizeof origin, "%s: %s", dc->origin, fig);
        rc = emit_image(x, p, NULL, i, fig, origin, data, len);
        emitted++;
    }
    if (rc == 0 && emitted == 0) {
        /* No drawing came: the patent's data is still worth keeping. */
        imp_item *it = new_item(gr->patent_id, what);
        if (it) {
            it->patent = imp_patent_ref(p);
            it->patent_only = 1;
            rc = imp__emit(x, it);
        }
    }
    imp_patent_unref(p);
out:
    dc->callback_ms += imp_now_ms() - t0;
    return rc != 0 || imp__stopping(x);
}

/* Does buf hold more than one XML document (a weekly ipg / ipgb file)? */
static int many_documents(const char *buf, size_t len)
{
    const char *first = memmem(buf, len, "<?xml", 5);
    return first && memmem(first + 5, len - (size_t)(first + 5 - buf), "<?xml", 5) != NULL;
}

static void parse_xml(imp_ctx *x, const char *buf, size_t len, const char *origin,
                      const char *dir, group *g)
{
    doc_ctx dc = {.x = x, .origin = origin, .dir = dir, .g = g};
    dc.weekly = many_documents(buf, len);
    ds_err err = {0};
    double t0 = imp_now_ms();
    if (us_parse_buffer(buf, len, on_doc, &dc, &err) < 0 && !imp__stopping(x))
        imp__fail(x, origin, err.msg);
    imp__add_parse_ms(x, imp_now_ms() - t0 - dc.callback_ms);
}

static void parse_xml_file(imp_ctx *x, const char *path, const char *origin)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        imp__fail(x, origin, strerror(errno));
        if (fd >= 0)
            close(fd);
        return;
    }
    if (st.st_size == 0) {
        close(fd);
        imp__fail(x, origin, "empty file");
        return;
    }
    /* Mapped, not read: a weekly file is hundreds of MB. */
    void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
        imp__fail(x, origin, strerror(errno));
        return;
    }
    char dir[PATH_MAX];
    ds_err why;
    if (ds_snprintf(dir, sizeof dir, &why, "%s", path) != 0) {
        imp__fail(x, origin, why.msg);
        munmap(map, (size_t)st.st_size);
        return;
    }
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = 0;
    else
        snprintf(dir, sizeof dir, ".");
    parse_xml(x, map, (size_t)st.st_size, origin, dir, NULL);
    munmap(map, (size_t)st.st_size);
}

/* ---- archive directories ------------------------------------------------------ */

/* The drawings the XML files of one directory name, so that the walk does
 * not import them a second time as plain images. One directory is cached:
 * the walk visits a directory's files together (split only by its
 * subdirectories). */
typedef struct claims {
    char dir[PATH_MAX];
    char **names;
    size_t n, cap;
    char **zero;                 /* patents whose D00000 sheet is in dir */
    const char *within;          /* where the XML files' links may lead */
    size_t n_zero, cap_zero;
    int valid;
} claims;

static void claims_clear(claims *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->names[i]);
    for (size_t i = 0; i < c->n_zero; i++)
        free(c->zero[i]);
    c->n = c->n_zero = 0;
    c->valid = 0;
}

static void claims_free(claims *c)
{
    claims_clear(c);
    free(c->names);
    free(c->zero);
}

/* Note that the directory holds name, when it is a patent's D00000 sheet. */
static void note_sheet_zero(claims *c, const char *name)
{
    char id[128];
    if (!is_image(name) || imp_sheet_of(name, id, sizeof id) != 0)
        return;
    if (c->n_zero == c->cap_zero) {
        size_t cap = c->cap_zero ? 2 * c->cap_zero : 16;
        char **p = realloc(c->zero, cap * sizeof *p);
        if (!p)
            return; /* numbered as without it: no worse than before */
        c->zero = p;
        c->cap_zero = cap;
    }
    if ((c->zero[c->n_zero] = strdup(id)))
        c->n_zero++;
}

static int collect_figures(void *ctx, const us_doc *d)
{
    claims *c = ctx;
    if (!d->grant || d->grant->type != US_DESIGN)
        return 0;
    for (int i = 0; i < d->grant->n_figures; i++) {
        if (c->n == c->cap) {
            size_t cap = c->cap ? 2 * c->cap : 32;
            char **p = realloc(c->names, cap * sizeof *p);
            if (!p)
                return 1;
            c->names = p;
            c->cap = cap;
        }
        if (!(c->names[c->n] = strdup(d->grant->figures[i])))
            return 1;
        c->n++;
    }
    return 0;
}


typedef struct member {
    char *name;
    void *data;
    size_t len;
    int claimed;                 /* an XML of the group named it */
} member;

struct group {
    char dir[1100];              /* the members' directory inside the archive */
    member *m;
    size_t n, cap, bytes;
};

/* A binary search: a directory may hold a whole week's drawings (the group
 * is sorted by by_base_name while it is flushed). */
static int find_in_group(group *g, const char *figure, void **data, size_t *len)
{
    size_t lo = 0, hi = g->n;
    while (lo < hi) { /* the first member not below figure */
        size_t mid = lo + (hi - lo) / 2;
        if (strcasecmp(base_name(g->m[mid].name), figure) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < g->n && strcasecmp(base_name(g->m[i].name), figure) == 0; i++)
        if (g->m[i].data && !is_xml(g->m[i].name)) {
            *data = g->m[i].data; /* handed over to the item */
            *len = g->m[i].len;
            g->m[i].data = NULL;
            g->m[i].claimed = 1;
            return 1;
        }
    return 0;
}

/* Whether the patent name belongs to has its D00000 sheet in c->zero. */
static int zero_listed(const claims *c, const char *name)
{
    char id[128];
    if (imp_sheet_of(name, id, sizeof id) < 0)
        return 0;
    for (size_t i = 0; i < c->n_zero; i++)
        if (strcmp(c->zero[i], id) == 0)
            return 1;
    return 0;
}

/* Members by base name, case aside (then as stored): the order of the walk
 * of a folder, and what find_in_group searches. */
static int by_base_name(const void *a, const void *b)
{
    const char *x = base_name(((const member *)a)->name), *y = base_name(((const member *)b)->name);
    int c = strcasecmp(x, y);
    return c ? c : strcmp(x, y);
}

/* An XML's drawings first, whichever order the archive had; then the images
 * no XML named, as plain images. */
static void flush_group(imp_ctx *x, group *g, const char *origin)
{
    char what[2400];
    claims zeros = {0};
    if (g->n > 1)
        qsort(g->m, g->n, sizeof *g->m, by_base_name);
    for (size_t i = 0; i < g->n; i++)
        note_sheet_zero(&zeros, base_name(g->m[i].name));
    for (size_t i = 0; i < g->n; i++) {
        member *m = &g->m[i];
        if (!is_xml(m->name) || imp__stopping(x))
            continue;
        snprintf(what, sizeof what, "%s!%s", origin, m->name);
        parse_xml(x, m->data, m->len, what, NULL, g);
    }
    for (size_t i = 0; i < g->n; i++) {
        member *m = &g->m[i];
        if (m->data && !m->claimed && is_image(m->name) && !imp__stopping(x)) {
            snprintf(what, sizeof what, "%s!%s", origin, m->name);
            emit_plain(x, base_name(m->name), zero_listed(&zeros, base_name(m->name)), what,
                       m->data, m->len);
            m->data = NULL;
        }
    }
    for (size_t i = 0; i < g->n; i++) {
        free(g->m[i].name);
        free(g->m[i].data);
    }
    claims_free(&zeros);
    g->n = g->bytes = 0;
    g->dir[0] = 0;
}

static void group_free(group *g)
{
    for (size_t i = 0; i < g->n; i++) {
        free(g->m[i].name);
        free(g->m[i].data);
    }
    free(g->m);
}

static int group_add(group *g, const char *name, void *data, size_t len)
{
    if (g->n == g->cap) {
        size_t cap = g->cap ? 2 * g->cap : 16;
        member *m = realloc(g->m, cap * sizeof *m);
        if (!m)
            return -1;
        g->m = m;
        g->cap = cap;
    }
    char *copy = strdup(name);
    if (!copy)
        return -1;
    g->m[g->n++] = (member){.name = copy, .data = data, .len = len};
    g->bytes += len;
    return 0;
}

static void dir_of(const char *name, char *out, size_t n)
{
    const char *s = strrchr(name, '/');
    size_t k = s ? (size_t)(s - name) : 0;
    snprintf(out, n, "%.*s", (int)k, name);
}

static void read_archive(imp_ctx *x, arc_reader *r, const char *origin, int depth,
                         uint64_t *counted);

/* A refused member's name may hold control characters (an escape sequence
 * aimed at the terminal that shows the log): shown as '?'. */
static void printable(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = '?';
}

/* A ZIP (or tar) inside an archive: read whole, opened from memory. */
static void read_nested(imp_ctx *x, void *data, size_t len, const char *origin, int depth)
{
    arc_reader *inner = NULL;
    ds_err err = {0};
    if (arc_open_memory(data, len, NULL, &inner, &err) != 0) {
        imp__fail(x, origin, err.msg);
        return;
    }
    read_archive(x, inner, origin, depth, NULL);
    arc_close(inner);
}

/* counted (depth 0 only) adds up the members' sizes as progress goes. */
static void read_archive(imp_ctx *x, arc_reader *r, const char *origin, int depth,
                         uint64_t *counted)
{
    group g = {0};
    arc_member m;
    ds_err err = {0};
    char what[2400];
    int rc;
    while (!imp__stopping(x) && (rc = arc_next(r, &m, &err)) == 1) {
        snprintf(what, sizeof what, "%s!%s", origin, m.name);
        printable(what);
        if (counted && m.size > 0) {
            imp__add_bytes(x, (uint64_t)m.size, 0);
            *counted += (uint64_t)m.size;
        }
        if (m.refused) {
            imp__fail(x, what, m.refused);
            continue;
        }
        const char *name = base_name(m.name);
        int nested = is_archive(name);
        if (nested && depth >= MAX_NESTING) {
            imp__fail(x, what, "an archive this deep inside archives is not opened");
            continue;
        }
        if (!nested && !is_xml(name) && !is_image(name)) {
            imp__count_ignored(x);
            continue;
        }
        void *data = NULL;
        size_t len = 0;
        if (arc_read(r, &data, &len, &err) != 0) {
            imp__fail(x, what, err.msg);
            break; /* the reader is unusable after a failed read */
        }
        if (nested) {
            read_nested(x, data, len, what, depth + 1);
            free(data);
            continue;
        }
        char dir[sizeof g.dir];
        dir_of(m.name, dir, sizeof dir);
        if (g.n && (strcmp(dir, g.dir) != 0 || g.bytes + len > GROUP_MAX_BYTES ||
                    g.n == GROUP_MAX_MEMBERS))
            flush_group(x, &g, origin);
        snprintf(g.dir, sizeof g.dir, "%s", dir);
        if (group_add(&g, m.name, data, len) != 0) {
            free(data);
            imp__fail(x, what, "out of memory");
        }
    }
    if (rc < 0 && !imp__stopping(x))
        imp__fail(x, origin, err.msg);
    if (!imp__stopping(x))
        flush_group(x, &g, origin);
    group_free(&g);
}

static void read_archive_file(imp_ctx *x, const char *path, const char *origin, uint64_t size)
{
    arc_reader *r = NULL;
    ds_err err = {0};
    uint64_t counted = 0;
    if (arc_open_file(path, NULL, &r, &err) != 0) {
        imp__fail(x, origin, err.msg);
    } else {
        read_archive(x, r, origin, 0, &counted);
        arc_close(r);
    }
    if (counted < size) /* headers, padding, or what was not read */
        imp__add_bytes(x, size - counted, 0);
}

/* ---- directories --------------------------------------------------------------- */

/* Read the directory's XML files' drawing names (and its D00000 sheets),
 * unless it is the one cached. */
static void claims_load(claims *c, const char *dir)
{
    if (!c->valid || strcmp(c->dir, dir) != 0) {
        claims_clear(c);
        snprintf(c->dir, sizeof c->dir, "%s", dir);
        c->valid = 1;
        DIR *d = opendir(dir);
        struct dirent *de;
        while (d && (de = readdir(d))) {
            char path[PATH_MAX];
            void *data;
            size_t len;
            ds_err err = {0};
            note_sheet_zero(c, de->d_name);
            if (!is_xml(de->d_name) ||
                (size_t)snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >= sizeof path ||
                read_whole(path, c->within, 1u << 30, &data, &len, &err) != 0)
                continue;
            us_parse_buffer(data, len, collect_figures, c, &err);
            free(data);
        }
        if (d)
            closedir(d);
    }
}

static int claimed(claims *c, const char *dir, const char *name)
{
    claims_load(c, dir);
    for (size_t i = 0; i < c->n; i++)
        if (strcasecmp(c->names[i], name) == 0)
            return 1;
    return 0;
}

/* Whether dir holds the D00000 sheet of the patent name belongs to. */
static int sheet_zero_beside(claims *c, const char *dir, const char *name)
{
    if (imp_sheet_of(name, (char[128]){0}, 128) < 0)
        return 0; /* not a USPTO drawing's name: no directory read for it */
    claims_load(c, dir);
    return zero_listed(c, name);
}

typedef struct walk_ctx {
    imp_ctx *x;
    claims claims;
    char data_rel[PATH_MAX];     /* the data directory, relative to the root,
                                    when it lies inside it; else "" */
    int data_said;
} walk_ctx;

/* Where the data directory lies inside the walked root (`dinoseek import .`
 * with the default ./data): its thumbnails and originals are the
 * collection's own files, which would come back as new images
 * (IMG_0001.PNG.jpg) beside the ones they were made from. */
static void find_data_dir(walk_ctx *w, const char *root)
{
    char r[PATH_MAX], d[PATH_MAX];
    const char *data = w->x->e ? eng_data_dir(w->x->e) : NULL;
    w->data_rel[0] = 0;
    if (!data || !realpath(root, r) || !realpath(data, d))
        return;
    size_t n = strlen(r);
    if (strncmp(d, r, n) == 0 && d[n] == '/' && (n > 1 || d[1]))
        ds_snprintf(w->data_rel, sizeof w->data_rel, NULL, "%s", d + n + (n > 1));
}

static int on_file(void *ctx, const char *path, const char *rel, const struct stat *st)
{
    walk_ctx *w = ctx;
    imp_ctx *x = w->x;
    const char *name = base_name(rel);
    size_t dn = strlen(w->data_rel);
    if (dn && strncmp(rel, w->data_rel, dn) == 0 && rel[dn] == '/') {
        if (!w->data_said++ && !x->parent) /* said once: by the import, not its count */
            fprintf(stderr, "dinoseek import: %s/%s is the data directory: its files are "
                            "passed over (counted as ignored)\n", x->input_root, w->data_rel);
        imp__count_ignored(x);
        return imp__stopping(x);
    }
    if (is_archive(name)) {
        read_archive_file(x, path, rel, (uint64_t)st->st_size);
        return imp__stopping(x);
    }
    imp__add_bytes(x, (uint64_t)st->st_size, 0);
    if (is_xml(name)) {
        parse_xml_file(x, path, rel);
    } else if (is_image(name)) {
        char dir[PATH_MAX];
        dir_of(path, dir, sizeof dir);
        if (claimed(&w->claims, *dir ? dir : ".", name))
            return imp__stopping(x); /* imported through its XML */
        void *data;
        size_t len;
        ds_err err = {0};
        if (read_whole(path, NULL, MAX_IMAGE_BYTES, &data, &len, &err) != 0)
            imp__fail(x, rel, err.msg);
        else
            emit_plain(x, name, sheet_zero_beside(&w->claims, *dir ? dir : ".", name), rel, data,
                       len);
    } else if (!(is_metadata(name) && strchr(rel, '/') == NULL)) {
        imp__count_ignored(x);
    }
    return imp__stopping(x);
}

static void on_skip(void *ctx, const char *path, const char *reason)
{
    walk_ctx *w = ctx;
    imp__fail(w->x, path, reason);
}

static int read_directory(imp_ctx *x, const char *path, ds_err *err)
{
    /* A metadata file at the root describes the folder's plain images,
     * unless one was given. */
    imp_meta *own = NULL;
    if (!x->opt->metadata) {
        static const char *const names[] = {"metadata.csv", "metadata.json"};
        char mp[2][PATH_MAX];
        int found[2];
        struct stat st;
        for (int i = 0; i < 2; i++) {
            if (ds_snprintf(mp[i], sizeof mp[i], err, "%s/%s", path, names[i]) != 0)
                return ds_wrap(err, "%s: metadata file: ", path);
            found[i] = stat(mp[i], &st) == 0;
        }
        /* Both: one of them would be read and the other pass unseen, its
         * patents with it (neither is counted as ignored). */
        if (found[0] && found[1])
            return ds_fail(err, DS_EINVAL, "both metadata.csv and metadata.json are at the "
                                           "folder's root: keep one, or name it with --metadata");
        for (int i = 0; i < 2; i++)
            if (found[i] && imp_meta_load(mp[i], &own, err) != 0)
                return -1;
    }
    imp_meta *saved = x->meta;
    if (own)
        x->meta = own;
    walk_ctx w = {.x = x, .claims = {.within = x->input_root}};
    find_data_dir(&w, path);
    int rc = arc_walk(path, on_file, on_skip, &w, err);
    claims_free(&w.claims);
    if (rc >= 0 && !imp__stopping(x))
        imp_meta_report_unused(x, own);
    x->meta = saved;
    imp_meta_free(own);
    return rc < 0 ? -1 : 0;
}

/* ---- entry points -------------------------------------------------------------- */

static int add_size(void *ctx, const char *path, const char *rel, const struct stat *st)
{
    (void)path;
    (void)rel;
    *(uint64_t *)ctx += (uint64_t)st->st_size;
    return 0;
}

uint64_t imp_source_size(const char *path)
{
    struct stat st;
    uint64_t total = 0;
    ds_err err = {0};
    if (stat(path, &st) != 0)
        return 0;
    if (!S_ISDIR(st.st_mode))
        return (uint64_t)st.st_size;
    arc_walk(path, add_size, NULL, &total, &err);
    return total;
}

/* The folder that links met while reading path may lead into: path's own,
 * or for a file, the folder it is in. */
static void set_input_root(imp_ctx *x, const char *path, int is_dir)
{
    if (!realpath(path, x->input_root))
        snprintf(x->input_root, sizeof x->input_root, "%s", path);
    char *slash = strrchr(x->input_root, '/');
    if (!is_dir && slash)
        *(slash == x->input_root ? slash + 1 : slash) = 0;
}

int imp_source_read(imp_ctx *x, const char *path, ds_err *err)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return ds_fail(err, errno == ENOENT ? DS_ENOTFOUND : DS_EIO, "%s: %s", path,
                       strerror(errno));
    set_input_root(x, path, S_ISDIR(st.st_mode));
    if (S_ISDIR(st.st_mode))
        return read_directory(x, path, err);
    if (!S_ISREG(st.st_mode))
        return ds_fail(err, DS_EINVAL, "%s: not a file or a directory", path);
    const char *name = base_name(path);
    if (is_archive(name)) {
        read_archive_file(x, path, path, (uint64_t)st.st_size);
        return 0;
    }
    imp__add_bytes(x, (uint64_t)st.st_size, 0);
    if (is_xml(name)) {
        parse_xml_file(x, path, path);
    } else if (is_image(name)) {
        void *data;
        size_t len;
        /* The caller names the path with the error. */
        if (read_whole(path, NULL, MAX_IMAGE_BYTES, &data, &len, err) != 0)
            return -1;
        claims c = {.within = x->input_root};
        char dir[PATH_MAX];
        dir_of(path, dir, sizeof dir);
        int zero = sheet_zero_beside(&c, *dir ? dir : ".", name);
        claims_free(&c);
        emit_plain(x, name, zero, path, data, len);
    } else {
        return ds_fail(err, DS_EUNSUPPORTED,
                       "%s: not a folder, an archive (.tar, .zip, ...), USPTO XML or an image",
                       path);
    }
    return 0;
}
