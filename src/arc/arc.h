/* arc.h - read archives and directory trees as a stream of files, safely.
 *
 * Archives are tar and zip, plain or compressed with gzip, bzip2, xz, lzma,
 * lzip, zstd or compress. They are streamed: nothing is unpacked to disk,
 * and a ZIP inside a tar (the USPTO weekly design archive: I{YYYYMMDD}.tar of
 * DESIGN/USD*.ZIP) is read whole with arc_read and opened from memory with
 * arc_open_memory. Other formats are left out on purpose: mtree would read
 * files named inside it from the local disk, and filters that libarchive
 * runs as external programs (lrzip, grzip, lzop, ...) are never enabled.
 *
 * Hostile input: a member whose name is absolute, has a `..` component, a
 * NUL or is not valid as a path is refused (reported, not read); links,
 * devices and encrypted members are refused the same way; directories are
 * passed over; a member may not decompress to more than max_member bytes,
 * nor the whole archive to more than max_total or more than max_ratio times
 * its compressed size (zip bombs); truncation and corruption are errors
 * naming the member. libarchive ends a name at its first NUL, so a stored
 * name with a NUL in it arrives cut there (and the cut name is checked).
 *
 * Thread safety: a reader belongs to one thread; different readers may be
 * used from different threads at once.
 */
#ifndef DS_ARC_H
#define DS_ARC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "base/error.h"

typedef struct arc_limits {
    uint64_t max_member;   /* bytes of one member, decompressed (default 256 MiB) */
    uint64_t max_total;    /* bytes decompressed from one archive (default 64 GiB) */
    double max_ratio;      /* decompressed / compressed bytes, checked once more
                              than 16 MiB came out (default 100) */
    uint64_t max_members;  /* members of one archive (default 1,000,000) */
} arc_limits;

void arc_limits_default(arc_limits *l);

typedef struct arc_reader arc_reader;

/* Open an archive file, or one in memory (buf must outlive the reader).
 * lim NULL: the defaults. Returns 0, or -1 with err (DS_EFORMAT: not an
 * archive libarchive knows). */
int arc_open_file(const char *path, const arc_limits *lim, arc_reader **out, ds_err *err);
int arc_open_memory(const void *buf, size_t len, const arc_limits *lim, arc_reader **out,
                    ds_err *err);
void arc_close(arc_reader *r);

typedef struct arc_member {
    const char *name;      /* as stored, normalised: no leading "./"; valid
                              until the next arc_next */
    int64_t size;          /* declared size, -1 unknown (may lie: reading is
                              bounded by the limits, not by this) */
    const char *refused;   /* non-NULL: why this member will not be read
                              (unsafe name, ...); the caller records it and
                              goes on */
} arc_member;

/* The next regular file, or the next member refused (m->refused says why: an
 * unsafe name, a link, a device, encrypted, a declared size over
 * max_member). Directories are passed over silently. The data of a member
 * the caller does not read is skipped, counted against max_total and
 * max_ratio when it has to be decompressed to be skipped. Returns 1 with
 * *m, 0 at the end (and again after), or -1 with err when the archive cannot
 * be read further: DS_EFORMAT truncated or corrupt, DS_ETOOBIG a limit
 * passed (max_members, max_total, max_ratio), DS_EIO a read error. */
int arc_next(arc_reader *r, arc_member *m, ds_err *err);

/* Read the current member whole into a new malloc'ed buffer (*len bytes, and
 * a NUL after them that *len does not count; the caller frees it). The
 * buffer grows with what really comes out, never past max_member + 2 bytes,
 * whatever size the member declares. Once per member, and not for a refused
 * one (DS_EINVAL, the reader stays usable). -1 with err (DS_ETOOBIG for a
 * limit, DS_EFORMAT for corruption, DS_ENOMEM) leaves the reader unusable. */
int arc_read(arc_reader *r, void **data, size_t *len, ds_err *err);

/* Whether a member name is safe to use as a relative path: not empty, not
 * absolute (no leading '/' or '\\', no drive letter "C:"), no ".."
 * component ('/' and '\\' both separate), no NUL, no control characters
 * (0x00-0x1f, 0x7f), at most ARC_NAME_MAX bytes. Bytes >= 0x80 are allowed.
 * Returns 0, or -1 with err (DS_EINVAL) saying why. O(length), thread-safe. */
#define ARC_NAME_MAX 1024
int arc_name_check(const char *name, ds_err *err);
/* The same for len bytes that may hold a NUL (refused). */
int arc_name_check_n(const char *name, size_t len, ds_err *err);

/* ---- directory trees ---------------------------------------------------- */

/* Called for each regular file under the root, in sorted (byte) order of
 * relative path, depth first. rel is relative to the root. Return non-zero
 * to stop the walk (arc_walk then returns that value). */
typedef int (*arc_walk_fn)(void *ctx, const char *path, const char *rel, const struct stat *st);
/* Called for what the walk passes over with a reason (unreadable
 * directory, a symlink leading out of the root, a loop); may be NULL. */
typedef void (*arc_walk_skip_fn)(void *ctx, const char *path, const char *reason);

/* Walk root recursively. Symlinks are followed only when they resolve inside
 * the root (and each directory is entered once: no loops). Returns 0, the
 * callback's non-zero value, or -1 with err when root itself cannot be read. */
int arc_walk(const char *root, arc_walk_fn fn, arc_walk_skip_fn skip, void *ctx, ds_err *err);

#endif
