/* importer.h - fill a collection from USPTO bulk data and folders of images.
 *
 * Inputs (any mix, each PATH given to imp_run):
 *  - a directory: walked recursively in sorted order. `*.xml` files are
 *    USPTO grant XML (the seed's layout: USD* folders holding the XML and
 *    its TIFF drawings); the drawings each document names are looked up
 *    beside it. Archives inside are read as below. Other images are plain
 *    images (their file name is their id); a metadata.csv / metadata.json
 *    at the root (or --metadata) gives their patent fields.
 *  - a weekly design bulk archive (I{YYYYMMDD}.tar of DESIGN/USD*.ZIP), a
 *    single ZIP, or any tar: streamed with libarchive; the ZIPs inside are
 *    read from memory, never unpacked to disk.
 *  - a USPTO XML file (single or weekly concatenation), or one image.
 *
 * The pipeline:
 *
 *   reader ──► decode workers (N) ──► embedder (batches of 32) ──► writer
 *   parse XML,   decode once:          one forward pass             blobs, then the
 *   read files,  tensor + thumbnail    per batch                    batch's rows in one
 *   skip known                                                      SQLite transaction,
 *                                                                   then the index
 *
 * Queues between the stages are bounded, so memory does not grow with the
 * input. Resume: an image whose file name, patent_id + image_index or
 * content hash is in the catalog is skipped before it is decoded, so a rerun
 * after a crash (even SIGKILL) finishes the work without duplicating or
 * losing anything. A bad image, XML document or archive member is recorded
 * with its reason in the job and the import goes on.
 *
 * One import per collection at a time, across processes (a lock file in
 * the data directory, released by the kernel if the process dies).
 */
#ifndef DS_IMPORTER_H
#define DS_IMPORTER_H

#include <stdint.h>

#include "base/error.h"
#include "engine/engine.h"

#define IMP_DEFAULT_BATCH 32     /* images per forward pass and transaction (the seed's) */

typedef struct imp_progress {
    int64_t job;                 /* the job's id in the catalog (0 in a dry run) */
    int64_t done;                /* images stored */
    int64_t skipped;             /* images already there */
    int64_t failed;              /* images, documents or members that failed */
    int64_t patents;             /* design patents read */
    int64_t other_docs;          /* utility / plant / reissue documents passed over */
    int64_t absent;              /* drawings a weekly (many-document) XML file names
                                    that are not beside it: such files are the
                                    bibliographic text, the USPTO ships the drawings
                                    apart, so this is not a failure */
    int64_t ignored;             /* files that are neither XML, image nor archive */
    int64_t other_shard;         /* patents and plain images left to other shards */
    uint64_t bytes_total;        /* input bytes (files and archives) */
    uint64_t bytes_read;
    int64_t total;               /* what the job will count in done + skipped + failed
                                    (its images, and the documents and members that
                                    fail), from a pass that only counts the input
                                    beside the import; -1 until that pass is done */
    double progress;             /* (done + skipped + failed) / total, below 1 until
                                    the end; -1: unknown (total not counted yet) */
    double elapsed_s;
    double items_per_s;          /* (done + skipped + failed) / elapsed */
    double eta_s;                /* from items_per_s and what is left of total;
                                    -1: unknown */
    double parse_ms, decode_ms, embed_ms, write_ms; /* time per stage: wall time of
                                    the reader, embedder and writer; CPU time
                                    summed over the decode workers */
    int finished;
    const char *status;          /* "running", "done", "failed", "cancelled" */
    const char *last_error;      /* the latest failure's reason, or NULL */
} imp_progress;

/* Called from the writer thread after each batch, and once at the end
 * (finished = 1). Must be quick. */
typedef void (*imp_progress_fn)(void *ctx, const imp_progress *p);

typedef struct imp_options {
    const char *const *paths;
    int n_paths;
    const char *collection;      /* NULL: the engine's default */
    int batch;                   /* 0: IMP_DEFAULT_BATCH */
    int workers;                 /* decode threads; 0: one per core */
    int dry_run;                 /* parse and count only: nothing decoded or stored
                                    (the engine may then be NULL) */
    const char *metadata;        /* CSV or JSON for plain images, or NULL */
    int metadata_only;           /* store the XML's patents, look for no drawings
                                    (bibliographic files such as ipgb*.xml) */
    const char *root;            /* when set, every path must resolve inside it
                                    (the server's import roots) */
    int shard, shards;           /* import only shard `shard` (0-based) of `shards`
                                    (0 or 1: everything); see imp_shard_of */
    imp_progress_fn progress;
    void *progress_ctx;          /* also passed to on_failure */
    /* Called for each failure (what failed, why), from any stage's thread,
     * one at a time; may be NULL. */
    void (*on_failure)(void *ctx, const char *what, const char *reason);
    volatile int *cancel;        /* set non-zero to stop after the current batch */
    /* Called once the job is recorded (after the collection's lock is
     * taken), from imp_run's thread; may be NULL. */
    void (*on_start)(void *ctx, int64_t job);
} imp_options;

/* Run an import. *summary (may be NULL) receives the final counters.
 * Returns 0 when the import ran to the end (some items may have failed:
 * see summary->failed), or -1 with err when it could not run or stopped:
 * DS_EBUSY another import of the collection is running, DS_ENOTFOUND a path
 * does not exist, DS_EINVAL bad options or a path outside root. */
int imp_run(eng *e, const imp_options *opt, imp_progress *summary, ds_err *err);

/* Mark the collection's import jobs that a dead process left "running" as
 * "interrupted", when no import of it runs now (its lock is free: a live
 * import, in any process, holds it from before its job row is written to
 * after the row is finished). *n_out (may be NULL) counts them. For readers
 * of a job that says "running" (the server's status and event stream),
 * which would otherwise show a killed import as running until the next
 * import of the collection. */
int imp_mark_interrupted(eng *e, const char *collection, int64_t *n_out, ds_err *err);

/* What a file is to the import, by its name's extension (case-insensitive):
 * an archive (.zip, .tar, .tgz, .tar.gz/.bz2/.xz/.zst, ...), USPTO XML
 * (.xml), an image (.tif .tiff .jpg .jpeg .png .webp .gif .bmp), or other. */
typedef enum imp_kind { IMP_OTHER = 0, IMP_ARCHIVE, IMP_XML, IMP_IMAGE } imp_kind;
imp_kind imp_kind_of(const char *name);

/* Which of n shards a patent (by its patent_id) or an image without one
 * (by its file name) belongs to: FNV-1a 64 of the key, modulo n. Machines
 * importing the same sources with `--shard i/n` for i = 0..n-1 store
 * disjoint parts whose union is the whole, and all of a patent's drawings
 * go to the same machine. The function is part of the data's contract:
 * changing it would make a rerun store what another shard stored. */
int imp_shard_of(const char *key, int n);

/* Whether path, symlinks resolved, is root or inside it (both must exist). */
int imp_path_inside(const char *path, const char *root);

#endif
