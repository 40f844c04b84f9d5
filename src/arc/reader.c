/* reader.c - the streaming archive reader of arc.h, over libarchive.
 *
 * Every limit is enforced on bytes that really came out, never on what a
 * header declares: a declared size only refuses a member up front (when it is
 * already over max_member) and sizes the first allocation of arc_read.
 * "Decompressed" is the larger of two counts: the member bytes handed out
 * (what a zip's deflate produced) and the bytes the format has taken from the
 * filter chain (what gunzip produced for a tar.gz, skipped members included),
 * so one count serves both kinds of compression.
 */
#include "arc/arc_internal.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIB ((uint64_t)1 << 20)
#define BLOCK_SIZE (1 << 20)       /* bytes per read(2) of an archive file */
#define RATIO_AFTER (16 * MIB)     /* below this, small archives compress too
                                      well for a ratio to mean anything */
#define FIRST_ALLOC (16 * MIB)     /* most a declared size makes arc_read
                                      allocate before any data came out */
#define UNKNOWN_ALLOC (64 * 1024)  /* first allocation for an unknown size */
#define DRAIN_BUF (64 * 1024)

enum member_state {
    NO_MEMBER,  /* before the first, or its data already skipped */
    UNREAD,     /* readable, not read yet */
    PASSED,     /* refused or a directory: its data is to be skipped */
    CONSUMED,   /* read by arc_read */
};

struct arc_reader {
    struct archive *a;
    arc_limits lim;
    char *label;          /* the file's path, or "archive in memory" */
    char *name;           /* the current (or last) member's name, owned */
    size_t name_cap;
    int after;            /* reading the header after `name` */
    int64_t size;         /* the current member's declared size, -1 unknown */
    int encrypted;        /* the current member is (its data cannot be read) */
    enum member_state state;
    int at_end;
    int broken;           /* an error left the archive unreadable */
    uint64_t members;     /* headers read, directories included */
    uint64_t out;         /* member bytes decompressed, read or drained */
    char *scratch;        /* DRAIN_BUF bytes, made on first use */
    char why[sizeof ((ds_err *)0)->msg]; /* a refusal reason built at run time */
};

void arc_limits_default(arc_limits *l)
{
    l->max_member = 256 * MIB;
    l->max_total = 64 * 1024 * MIB;
    l->max_ratio = 100;
    l->max_members = 1000000;
}

/* ---- errors ---------------------------------------------------------------- */

/* An error that leaves the reader unusable, with the archive and member
 * named: "x.tar: member \"a/b.zip\": Truncated tar archive". */
static int fail(arc_reader *r, ds_err *err, ds_code code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(arc_reader *r, ds_err *err, ds_code code, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    r->broken = 1;
    if (!r->name)
        return ds_fail(err, code, "%.300s: %s", r->label, what);
    char q[4 * ARC_QUOTE_MAX + 8];
    arc__quote(r->name, strlen(r->name), q, sizeof q);
    return ds_fail(err, code, "%.300s: %s \"%s\": %s", r->label,
                   r->after ? "after member" : "member", q, what);
}

/* libarchive sets errno-like codes: system ones for I/O, its own (EILSEQ,
 * -1) for a malformed archive. */
static ds_code lib_code(struct archive *a)
{
    switch (archive_errno(a)) {
    case ENOENT: return DS_ENOTFOUND;
    case ENOMEM: return DS_ENOMEM;
    case EIO: case EACCES: case EPERM: case EISDIR: case ENOTDIR: case ELOOP:
    case ENAMETOOLONG: case ENXIO: case EBADF:
        return DS_EIO;
    default: return DS_EFORMAT;
    }
}

/* libarchive's message, made plain where it is terse ("ZIP decompression
 * failed (-5)" is zlib running out of input). */
static int lib_fail(arc_reader *r, ds_err *err)
{
    const char *msg = archive_error_string(r->a);
    ds_code code = lib_code(r->a);
    if (!msg)
        msg = "unreadable (libarchive gave no reason)";
    int plain = code != DS_EFORMAT || strstr(msg, "runcated") || strstr(msg, "orrupt") ||
                strstr(msg, "amaged");
    return fail(r, err, code, "%s%s", msg, plain ? "" : " (truncated or corrupt)");
}

/* ---- opening ----------------------------------------------------------------- */

/* The filters that decompress in-process. libarchive registers a filter it
 * lacks the library for as an external program (and says so with
 * ARCHIVE_WARN); running programs on hostile input is not wanted, so each is
 * tried once on a scratch reader and only those that came back ARCHIVE_OK
 * are ever enabled. */
typedef int (*filter_fn)(struct archive *);
static const filter_fn filters[] = {
    archive_read_support_filter_gzip, archive_read_support_filter_bzip2,
    archive_read_support_filter_xz,   archive_read_support_filter_lzma,
    archive_read_support_filter_lzip, archive_read_support_filter_zstd,
    archive_read_support_filter_compress,
};
static unsigned filters_in_process;
static pthread_once_t filters_once = PTHREAD_ONCE_INIT;

static void probe_filters(void)
{
    for (size_t i = 0; i < sizeof filters / sizeof *filters; i++) {
        struct archive *a = archive_read_new();
        if (a && filters[i](a) == ARCHIVE_OK)
            filters_in_process |= 1u << i;
        archive_read_free(a);
    }
}

static int enable_formats(struct archive *a)
{
    pthread_once(&filters_once, probe_filters);
    if (archive_read_support_format_tar(a) != ARCHIVE_OK ||
        archive_read_support_format_zip(a) != ARCHIVE_OK)
        return -1;
    for (size_t i = 0; i < sizeof filters / sizeof *filters; i++)
        if ((filters_in_process & (1u << i)) && filters[i](a) != ARCHIVE_OK)
            return -1;
    return 0;
}

static arc_reader *reader_new(const arc_limits *lim, const char *label, ds_err *err)
{
    if (lim && !(lim->max_ratio > 0)) {
        ds_fail(err, DS_EINVAL, "archive limits: max_ratio must be above 0");
        return NULL;
    }
    arc_reader *r = calloc(1, sizeof *r);
    if (!r) {
        ds_fail(err, DS_ENOMEM, "out of memory opening an archive");
        return NULL;
    }
    if (lim)
        r->lim = *lim;
    else
        arc_limits_default(&r->lim);
    r->size = -1;
    r->label = strdup(label);
    r->a = archive_read_new();
    if (!r->label || !r->a || enable_formats(r->a) != 0) {
        ds_fail(err, DS_ENOMEM, "out of memory opening an archive (libarchive set-up failed)");
        arc_close(r);
        return NULL;
    }
    return r;
}

static int open_done(arc_reader *r, int rc, arc_reader **out, ds_err *err)
{
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
        lib_fail(r, err);
        arc_close(r);
        return -1;
    }
    *out = r;
    return 0;
}

int arc_open_file(const char *path, const arc_limits *lim, arc_reader **out, ds_err *err)
{
    if (!path || !out)
        return ds_fail(err, DS_EINVAL, "arc_open_file: no path"); /* NULL: libarchive reads stdin */
    *out = NULL;
    arc_reader *r = reader_new(lim, path, err);
    if (!r)
        return -1;
    return open_done(r, archive_read_open_filename(r->a, path, BLOCK_SIZE), out, err);
}

int arc_open_memory(const void *buf, size_t len, const arc_limits *lim, arc_reader **out,
                    ds_err *err)
{
    static const char empty[1];
    if (!out || (!buf && len))
        return ds_fail(err, DS_EINVAL, "arc_open_memory: no buffer");
    *out = NULL;
    arc_reader *r = reader_new(lim, "archive in memory", err);
    if (!r)
        return -1;
    /* libarchive does not write through the pointer. */
    return open_done(r, archive_read_open_memory(r->a, buf ? buf : empty, len), out, err);
}

void arc_close(arc_reader *r)
{
    if (!r)
        return;
    archive_read_free(r->a);
    free(r->label);
    free(r->name);
    free(r->scratch);
    free(r);
}

/* ---- limits ------------------------------------------------------------------ */

static int check_totals(arc_reader *r, ds_err *err)
{
    uint64_t out = r->out;
    int64_t stream = archive_filter_bytes(r->a, 0);
    if (stream > 0 && (uint64_t)stream > out)
        out = (uint64_t)stream;
    if (out > r->lim.max_total)
        return fail(r, err, DS_ETOOBIG, "the archive decompresses to more than %llu bytes "
                    "(max_total)", (unsigned long long)r->lim.max_total);
    if (out <= RATIO_AFTER)
        return 0;
    int64_t in = archive_filter_bytes(r->a, -1);
    if (in > 0 && (double)out > r->lim.max_ratio * (double)in)
        return fail(r, err, DS_ETOOBIG, "the archive decompresses to more than %g times its "
                    "compressed size (%llu bytes out of %lld; max_ratio): a zip bomb?",
                    r->lim.max_ratio, (unsigned long long)out, (long long)in);
    return 0;
}

/* ---- members ----------------------------------------------------------------- */

/* Skip what is left of the current member. libarchive skips a plain tar's
 * data by seeking or reading raw bytes, and a zip's by its compressed size;
 * but behind a compression filter skipping means decompressing, which
 * libarchive would do uncounted, so that data is drained here, against
 * max_total and max_ratio. (A streamed zip entry whose size comes after its
 * data is still decompressed uncounted by libarchive's skip: it costs time,
 * never memory.) */
static int skip_rest(arc_reader *r, ds_err *err)
{
    int unread = r->state == UNREAD || r->state == PASSED;
    r->state = NO_MEMBER;
    if (!unread || archive_filter_count(r->a) <= 1 || r->encrypted)
        return 0;
    if (!r->scratch && !(r->scratch = malloc(DRAIN_BUF)))
        return fail(r, err, DS_ENOMEM, "out of memory skipping the member");
    for (;;) {
        la_ssize_t got = archive_read_data(r->a, r->scratch, DRAIN_BUF);
        if (got < 0)
            return lib_fail(r, err);
        if (got == 0)
            return 0;
        r->out += (uint64_t)got;
        if (check_totals(r, err) != 0)
            return -1;
    }
}

/* Keep the entry's name, without leading "./" (tar's habit). Returns 1, 0
 * when the name cannot be had in any character set (r->name is then ""), or
 * -1 out of memory. */
static int set_name(arc_reader *r, struct archive_entry *e, ds_err *err)
{
    const char *raw = archive_entry_pathname(e);
    if (!raw)
        raw = archive_entry_pathname_utf8(e);
    const char *n = raw ? raw : "";
    while (n[0] == '.' && n[1] == '/')
        n += 2;
    size_t len = strlen(n);
    if (len + 1 > r->name_cap) {
        char *bigger = realloc(r->name, len + 1);
        if (!bigger)
            return fail(r, err, DS_ENOMEM, "out of memory for a member name of %zu bytes", len);
        r->name = bigger;
        r->name_cap = len + 1;
    }
    memcpy(r->name, n, len + 1);
    r->after = 0;
    return raw != NULL;
}

/* Why the entry will not be read, or NULL. */
static const char *refusal(arc_reader *r, struct archive_entry *e, int named)
{
    ds_err nerr;
    if (!named)
        return "its name cannot be read in any character set";
    if (arc_name_check(r->name, &nerr) != 0) {
        snprintf(r->why, sizeof r->why, "%s", nerr.msg);
        return r->why;
    }
    if (archive_entry_hardlink(e))
        return "a hard link";
    switch (archive_entry_filetype(e)) {
    case AE_IFREG: break;
    case AE_IFLNK: return "a symbolic link";
    case AE_IFCHR: return "a character device";
    case AE_IFBLK: return "a block device";
    case AE_IFIFO: return "a FIFO";
    case AE_IFSOCK: return "a socket";
    default: return "not a regular file";
    }
    if (r->encrypted)
        return "encrypted";
    if (r->size >= 0 && (uint64_t)r->size > r->lim.max_member) {
        snprintf(r->why, sizeof r->why, "declared size of %lld bytes is over the limit of %llu "
                 "(max_member)", (long long)r->size, (unsigned long long)r->lim.max_member);
        return r->why;
    }
    return NULL;
}

static int unusable(arc_reader *r, ds_err *err)
{
    return ds_fail(err, DS_EINVAL, "%.300s: cannot be read further after an earlier error",
                   r->label);
}

int arc_next(arc_reader *r, arc_member *m, ds_err *err)
{
    if (!r || !m)
        return ds_fail(err, DS_EINVAL, "arc_next: no reader");
    if (r->broken)
        return unusable(r, err);
    if (r->at_end)
        return 0;
    for (;;) {
        if (skip_rest(r, err) != 0)
            return -1;
        struct archive_entry *e;
        r->after = 1;
        int rc = archive_read_next_header(r->a, &e);
        if (rc == ARCHIVE_EOF) {
            r->at_end = 1;
            return 0;
        }
        if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN)
            return lib_fail(r, err);
        if (++r->members > r->lim.max_members)
            return fail(r, err, DS_ETOOBIG, "the archive has more than %llu members "
                        "(max_members)", (unsigned long long)r->lim.max_members);
        if (check_totals(r, err) != 0) /* skipping the last member moved the stream */
            return -1;
        int named = set_name(r, e, err);
        if (named < 0)
            return -1;
        r->size = archive_entry_size_is_set(e) && archive_entry_size(e) >= 0
                      ? archive_entry_size(e) : -1;
        r->encrypted = archive_entry_is_encrypted(e) != 0;
        if (archive_entry_filetype(e) == AE_IFDIR && !archive_entry_hardlink(e)) {
            r->state = PASSED;
            continue;
        }
        m->name = r->name;
        m->size = r->size;
        m->refused = refusal(r, e, named);
        r->state = m->refused ? PASSED : UNREAD;
        return 1;
    }
}

int arc_read(arc_reader *r, void **data, size_t *len, ds_err *err)
{
    if (!r || !data || !len)
        return ds_fail(err, DS_EINVAL, "arc_read: no reader");
    *data = NULL;
    *len = 0;
    if (r->broken)
        return unusable(r, err);
    if (r->state != UNREAD)
        return ds_fail(err, DS_EINVAL, "%.300s: no member to read (%s)", r->label,
                       r->state == PASSED ? "it was refused" : "call arc_next first; a member "
                       "is read once");
    r->state = CONSUMED;
    uint64_t limit = r->lim.max_member;
    if (limit > SIZE_MAX / 2)
        limit = SIZE_MAX / 2;
    /* Trust the declared size only this far: for the first allocation. Room
     * for one byte more than expected shows the end without a realloc. */
    uint64_t hint = r->size >= 0 ? (uint64_t)r->size : UNKNOWN_ALLOC;
    if (hint > FIRST_ALLOC)
        hint = FIRST_ALLOC;
    if (hint > limit)
        hint = limit;
    size_t cap = (size_t)hint + 2, n = 0;
    char *buf = malloc(cap);
    if (!buf)
        return fail(r, err, DS_ENOMEM, "out of memory reading the member");
    for (;;) {
        if (n + 1 == cap) { /* full; at most limit + 1 data bytes and the NUL */
            size_t most = (size_t)limit + 2;
            size_t ncap = cap > most / 2 ? most : 2 * cap;
            char *bigger = realloc(buf, ncap);
            if (!bigger) {
                free(buf);
                return fail(r, err, DS_ENOMEM, "out of memory reading the member (%zu bytes)",
                            ncap);
            }
            buf = bigger;
            cap = ncap;
        }
        la_ssize_t got = archive_read_data(r->a, buf + n, cap - 1 - n);
        if (got < 0) {
            free(buf);
            return lib_fail(r, err);
        }
        if (got == 0)
            break;
        n += (size_t)got;
        r->out += (uint64_t)got;
        if (n > limit) {
            free(buf);
            return fail(r, err, DS_ETOOBIG, "decompresses to more than %llu bytes (max_member)",
                        (unsigned long long)r->lim.max_member);
        }
        if (check_totals(r, err) != 0) {
            free(buf);
            return -1;
        }
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return 0;
}
