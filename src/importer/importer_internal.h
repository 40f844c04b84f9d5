/* importer_internal.h - what the files of src/importer/ share.
 *
 *   queue.c     bounded queues between the stages
 *   pipeline.c  the threads, the counters, the job record, the lock
 *   source.c    inputs (folders, archives, XML, images) to items
 *   meta.c      plain images: ids from file names, metadata CSV / JSON
 *   patent.c    patents shared by their drawings (reference counted)
 */
#ifndef DS_IMPORTER_INTERNAL_H
#define DS_IMPORTER_INTERNAL_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>

#include "catalog/catalog.h"
#include "importer/importer.h"
#include "importer/queue.h"
#include "uspto/uspto.h"

/* A patent's bibliographic data, shared by the items of its drawings. */
typedef struct imp_patent {
    cat_patent p;                /* strings owned */
    atomic_int refs;
} imp_patent;

/* From a parsed grant (a new patent with one reference), or NULL. */
imp_patent *imp_patent_from_grant(const us_grant *g);
imp_patent *imp_patent_ref(imp_patent *p);
void imp_patent_unref(imp_patent *p);

/* One image (or one image-less patent) travelling through the pipeline. */
typedef struct imp_item {
    imp_patent *patent;          /* its patent's data, or NULL */
    char *patent_id;             /* when patent is NULL: from the name or metadata */
    int image_index;
    char *file_name;             /* the id in the collection */
    char *origin;                /* where it came from, for messages */
    void *data;                  /* the file's bytes */
    size_t len;
    char hash[65];               /* sha256 hex of data */
    eng_prepared prep;           /* filled by a decode worker; its tensor is
                                    freed once copied into the batch */
    int embedded;                /* its vector is in the batch's */
    int stored;                  /* the writer added it (else it was there,
                                    failed or was not done) */
    int failed;                  /* err says why */
    ds_err err;
    int patent_only;             /* no image: only the patent is stored */
    int attach;                  /* patent_only, its image stored under its
                                    file_name: give that row its patent */
} imp_item;

void imp_item_free(imp_item *it);

/* ---- metadata of plain images (meta.c) --------------------------------- */

typedef struct imp_meta imp_meta;

/* Load a CSV (header row naming the seed's fields; file_name and/or
 * patent_id required) or JSON (an array of such objects, or JSON lines).
 * Returns 0, or -1 with err naming the line. */
int imp_meta_load(const char *path, imp_meta **out, ds_err *err);
void imp_meta_free(imp_meta *m);

/* What a plain image is: its patent (a new reference, or NULL), or else its
 * patent_id (copied into id, "" for none), and its image_index. Metadata
 * (m may be NULL) wins over what the file name says. From the name, the
 * index is the drawing's place in the order the XML would give
 * ("USD0967598-20221025-D00002.TIF" is patent D0967598, index 1), or, when
 * sheet_zero says the patent's D00000 is among the input beside it, the
 * sheet number itself (D00000 is then index 0, D00001 index 1). Returns 0,
 * or -1 with err when the metadata's patent_id does not fit in id[n]. */
int imp_meta_describe(imp_meta *m, const char *file_name, int sheet_zero,
                      imp_patent **patent, char *id, size_t n, int *image_index, ds_err *err);

/* The sheet number of a USPTO drawing's name (USD0967598-20221025-D00002.TIF:
 * 2), its patent_id in id ("D0967598"; "" when the name is not a USPTO
 * one); -1 when there is none. */
int imp_sheet_of(const char *name, char *id, size_t n);

/* ---- the pipeline, as the sources see it (pipeline.c) ------------------ */

typedef struct imp_ctx {
    eng *e;
    const imp_options *opt;
    const char *collection;
    imp_meta *meta;              /* --metadata, or NULL */
    imp_queue decode_q;          /* imp_item *: reader -> decode workers */
    imp_queue embed_q;           /* imp_item *: decode workers -> embedder */
    imp_queue write_q;           /* imp_batch *: embedder -> writer */
    pthread_mutex_t lock;        /* guards the counters and the job record */
    imp_progress prog;
    char last_error[512];
    int64_t job;
    double t0;                   /* start, ms */
    atomic_int stop;             /* cancelled or a fatal error: stages wind down */
    ds_err fatal;                /* why, when stop came from an error */
    int storage_full;            /* the writer met DS_ENOSPACE: it writes no more */
    int input_size, dim;
    char input_root[PATH_MAX];   /* the input being read (a folder, or a file's
                                    folder): where symlinks may lead */
    struct imp_ctx *parent;      /* for the pass that counts the input: the
                                    import it counts for (it stops with it) */
} imp_ctx;

/* Hand an item to the pipeline (ownership passes): skipped at once when the
 * catalog has it, else queued for decoding. Returns 0, or -1 when the
 * import is stopping (the item was freed). */
int imp__emit(imp_ctx *x, imp_item *it);

/* Record a failure of something that is not an item (a document, a
 * member, a file): counted in failed and kept in the job. */
void imp__fail(imp_ctx *x, const char *what, const char *reason);

/* Fail each metadata row with a file_name that no image read so far had
 * (imp_meta_describe marks the rows it finds): called once the input the
 * metadata describes has been read. m may be NULL. */
void imp_meta_report_unused(imp_ctx *x, const imp_meta *m);

/* Count a passed-over document or file. */
void imp__count_other_doc(imp_ctx *x);
void imp__count_absent(imp_ctx *x);
void imp__count_ignored(imp_ctx *x);
void imp__count_patent(imp_ctx *x);
void imp__add_bytes(imp_ctx *x, uint64_t read, uint64_t total);
void imp__add_parse_ms(imp_ctx *x, double ms);
int imp__stopping(imp_ctx *x);

/* Whether an item keyed key (a patent_id, else a file name) is this
 * import's (--shard); when not, it is counted in other_shard. */
int imp__mine(imp_ctx *x, const char *key);

/* ---- sources (source.c) ------------------------------------------------ */

/* Sum of the input's bytes (for the ETA); 0 when unknown. */
uint64_t imp_source_size(const char *path);

/* Read one input PATH and emit its items. Returns 0, or -1 with err when
 * the whole input cannot be read (a missing path, an unreadable root);
 * failures inside it are recorded and reading goes on. */
int imp_source_read(imp_ctx *x, const char *path, ds_err *err);

double imp_now_ms(void);

#endif
