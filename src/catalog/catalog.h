/* catalog.h - the durable catalog: collections, patents, images (with their
 * vectors) and import jobs, in one SQLite database.
 *
 * File: <data_dir>/catalog.sqlite3, WAL mode, synchronous=NORMAL,
 * foreign_keys on, busy_timeout 5 s. The schema is versioned with
 * PRAGMA user_version and upgraded by cat_open (each migration one
 * transaction); a database written by a newer dinoseek is refused.
 *
 * Conventions: every fallible function returns 0 on success and -1 on
 * failure with the caller's ds_err filled (SQLite's message is copied in at
 * once). Every write is one transaction: either all of it is stored or none
 * of it. Strings handed in are read and never kept; strings handed out are
 * malloc'ed and owned by the caller (freed by the matching *_clear/_free).
 * Dates are ISO-8601 text, "yyyy-mm-dd"; times are Unix seconds.
 *
 * Thread safety: a cat_db holds one SQLite connection behind a recursive
 * mutex, so any thread may call any function on a shared cat_db; calls are
 * serialised. A batch (cat_begin .. cat_commit/cat_rollback) keeps the mutex
 * for its whole length, so other threads wait until it ends: keep batches
 * short (e.g. 32 images). For reads that must not wait behind writes, open a
 * second cat_db on the same directory: WAL lets one writer and many readers
 * run at once, and busy_timeout makes writers from other connections or
 * processes wait rather than fail.
 */
#ifndef DS_CATALOG_H
#define DS_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/filter.h"

/* The schema version this program writes (PRAGMA user_version). */
#define CAT_SCHEMA_VERSION 3

/* The database file's name inside the data directory. */
#define CAT_FILE_NAME "catalog.sqlite3"

typedef struct cat_db cat_db;

/* ---- opening ---------------------------------------------------------- */

/* Open, or create, <data_dir>/catalog.sqlite3 and bring its schema up to
 * CAT_SCHEMA_VERSION. data_dir must exist. Fails with DS_EFORMAT for a file
 * that is not a SQLite database (or is corrupt) or is another program's
 * database, DS_EUNSUPPORTED for a schema newer than this program knows.
 * Cost: a few ms (plus the migrations, once). *out is freed by cat_close. */
int cat_open(const char *data_dir, cat_db **out, ds_err *err);

/* Close the connection; a batch still open is rolled back (call it from the
 * thread that began the batch). NULL is a no-op. No other thread may be
 * using db. */
void cat_close(cat_db *db);

/* The schema version found in the file when it was opened (0 for a new
 * file), and the one it has now. */
int cat_schema_version(const cat_db *db);

/* PRAGMA integrity_check: O(database size). Fails with DS_EFORMAT and the
 * first problem SQLite names. */
int cat_check(cat_db *db, ds_err *err);

/* SQLite's PRAGMA data_version: it changes whenever another connection (this
 * process's or another's) commits, and not for this connection's own
 * commits. Lets a process notice, in O(1), rows that others stored. */
int cat_data_version(cat_db *db, int64_t *version, ds_err *err);

/* ---- batches ----------------------------------------------------------- */

/* Group several writes into one transaction (BEGIN IMMEDIATE). Inside a
 * batch each write call still stands alone (a failed call undoes itself
 * through a savepoint and leaves the earlier ones in place); cat_rollback
 * undoes the whole batch, cat_commit stores it. Batches do not nest. The
 * calling thread holds the connection from cat_begin until cat_commit or
 * cat_rollback returns (even when cat_commit fails: it then rolls back). */
int cat_begin(cat_db *db, ds_err *err);
int cat_commit(cat_db *db, ds_err *err);
int cat_rollback(cat_db *db, ds_err *err);

/* ---- collections ------------------------------------------------------- */

typedef struct cat_collection {
    int64_t id;
    char *name;        /* unique, e.g. "design_patents_full" */
    char *model;       /* model id, e.g. "facebook/dinov2-base" */
    int dimension;     /* vector length, e.g. 768 */
    int input_size;    /* model input side in pixels, e.g. 224 */
    char *preprocess;  /* preprocessing mode, e.g. "seed" or "native" */
    char *precision;   /* of the forward pass that made its vectors: "f32", "bf16" */
    int64_t created_at;
} cat_collection;

/* Create the collection, or check that the one stored under this name has
 * the same model, dimension, input size, preprocessing and precision (a
 * difference is DS_EINVAL naming the field: vectors from another model
 * cannot be mixed). precision NULL: not checked ("f32" when created).
 * *id_out (may be NULL) receives its id. One transaction; O(1). */
int cat_collection_ensure(cat_db *db, const char *name, const char *model, int dimension,
                          int input_size, const char *preprocess, const char *precision,
                          int64_t *id_out, ds_err *err);

/* Record model `to` for the collection called name if it records `from`
 * (one statement). Returns 1 when it did, 0 when the collection is absent
 * or records another model, -1 with err. */
int cat_collection_rename_model(cat_db *db, const char *name, const char *from, const char *to,
                                ds_err *err);

/* Look a collection up by name (DS_ENOTFOUND if absent). Fills *out, which
 * the caller frees with cat_collection_clear. */
int cat_collection_get(cat_db *db, const char *name, cat_collection *out, ds_err *err);

/* The same by id. */
int cat_collection_get_id(cat_db *db, int64_t id, cat_collection *out, ds_err *err);

/* Every collection, ordered by name: *out is an array of *n_out (NULL when
 * none), freed with cat_collection_list_free. */
int cat_collection_list(cat_db *db, cat_collection **out, size_t *n_out, ds_err *err);

void cat_collection_clear(cat_collection *c);  /* frees the strings; zeroes c */
void cat_collection_list_free(cat_collection *list, size_t n);

/* ---- patents ------------------------------------------------------------ */

/* One design patent, with the seed system's field names. Every string may
 * be NULL (unknown, stored as SQL NULL). As input the strings are only
 * read; as output (cat_patent_get) they are malloc'ed and freed by
 * cat_patent_clear. */
typedef struct cat_patent {
    char *patent_id;         /* required, e.g. "D0701016" */
    char *kind;              /* e.g. "S1" */
    char *title;
    char *loc_class;         /* Locarno class "NN-NN", e.g. "01-01" */
    char *loc_edition;       /* e.g. "15" */
    char *pub_date;          /* "yyyy-mm-dd" */
    char *filing_date;       /* "yyyy-mm-dd" */
    int grant_term;          /* years; 0 = unknown (NULL) */
    char *applicant_name;
    char *applicant_country; /* e.g. "US" */
    char *inventor_names;    /* comma-separated */
    char *assignee_name;
    char *claim_text;
    int image_count;         /* the patent's number of drawings; -1 = unknown */
} cat_patent;

/* Insert the patent, or replace every field of the stored one (patent_id and
 * collection stay; its images are kept). Dates must be "yyyy-mm-dd" or NULL
 * (DS_EINVAL otherwise). One transaction; O(log N). */
int cat_patent_upsert(cat_db *db, int64_t coll, const cat_patent *p, ds_err *err);

/* Fetch one patent (DS_ENOTFOUND if absent); *out is freed with
 * cat_patent_clear. O(log N). */
/* Make sure a patent row exists, creating it with only its id when absent;
 * an existing row (and its metadata) is left untouched. For adding an image
 * to a patent whose bibliographic data comes from elsewhere. One statement. */
int cat_patent_ensure(cat_db *db, int64_t coll, const char *patent_id, ds_err *err);

int cat_patent_get(cat_db *db, int64_t coll, const char *patent_id, cat_patent *out,
                   ds_err *err);

/* Delete a patent and its images. Absent is not an error. One transaction. */
int cat_patent_delete(cat_db *db, int64_t coll, const char *patent_id, ds_err *err);

void cat_patent_clear(cat_patent *p);  /* frees the strings; zeroes p */

/* ---- images and vectors ----------------------------------------------------- */

/* One drawing or photo. As input (cat_image_add) the strings are only read,
 * id and created_at are ignored (assigned by the catalog). As output they
 * are malloc'ed and freed by cat_image_clear. */
typedef struct cat_image {
    int64_t id;            /* assigned by the catalog; the vector index's id */
    int64_t collection_id;
    char *patent_id;       /* may be NULL: a plain image with no patent */
    int image_index;       /* 0-based position among the patent's drawings */
    char *file_name;       /* required; unique within the collection */
    char *object_key;      /* blob store key of the original, may be NULL */
    int width, height;     /* pixels of the original; 0 = unknown */
    char *content_hash;    /* sha256 of the original, 64 lowercase hex, or NULL */
    int64_t created_at;
} cat_image;

/* Store an image and its vector (the collection's dimension floats,
 * stored as float32 little-endian). A vector of another length, a duplicate
 * file_name (DS_EINVAL) or an unknown collection fail and store nothing.
 * *id_out (may be NULL) receives the new id. One transaction (or a
 * savepoint inside a batch); O(log N). */
int cat_image_add(cat_db *db, int64_t coll, const cat_image *img, const float *vector,
                  size_t dimension, int64_t *id_out, ds_err *err);

/* Fetch an image's fields (not its vector) by id, or by file name within a
 * collection (DS_ENOTFOUND if absent). *out is freed with cat_image_clear. */
int cat_image_get(cat_db *db, int64_t id, cat_image *out, ds_err *err);
int cat_image_by_file_name(cat_db *db, int64_t coll, const char *file_name, cat_image *out,
                           ds_err *err);

/* Copy an image's vector into out[0..dimension) (DS_EINVAL if the stored
 * vector has another length, DS_ENOTFOUND if no such image). */
int cat_image_vector(cat_db *db, int64_t id, float *out, size_t dimension, ds_err *err);

/* Whether the collection already holds an image with this content hash
 * (for skipping duplicates on import): *exists is 1 or 0, *id_out (may be
 * NULL) the lowest such id. Uses the content_hash index: O(log N). */
int cat_image_exists_hash(cat_db *db, int64_t coll, const char *hash, int *exists,
                          int64_t *id_out, ds_err *err);

/* Whether an image is already in the collection, and how it is known: by
 * its file name, by its place among a patent's drawings (patent_id +
 * image_index; not checked when patent_id is NULL), or by its content
 * (hash: may be NULL). The import's resume test: O(log N). */
typedef enum cat_known {
    CAT_KNOWN_NOT = 0,
    CAT_KNOWN_FILE_NAME = 1,
    CAT_KNOWN_PATENT_INDEX = 2,
    CAT_KNOWN_CONTENT = 3,
} cat_known;
int cat_image_known(cat_db *db, int64_t coll, const char *file_name, const char *patent_id,
                    int image_index, const char *hash, cat_known *known, ds_err *err);

/* Every image of a patent, ordered by image_index then id: an array of
 * *n_out (NULL when none), freed with cat_image_list_free. */
int cat_images_of_patent(cat_db *db, int64_t coll, const char *patent_id, cat_image **out,
                         size_t *n_out, ds_err *err);

/* Give an image stored without a patent (patent_id NULL) its patent (its
 * row made with only its id when absent) and place: the metadata came
 * after the image. An image that has a patent keeps it: another patent
 * than patent_id is DS_EEXIST, naming both; an absent image is no error.
 * Nothing is written then. One transaction; O(log N). */
int cat_image_set_patent(cat_db *db, int64_t coll, const char *file_name,
                         const char *patent_id, int image_index, ds_err *err);

/* Delete an image by id (DS_ENOTFOUND if absent). One transaction. */
int cat_image_delete(cat_db *db, int64_t id, ds_err *err);

void cat_image_clear(cat_image *img);  /* frees the strings; zeroes img */
void cat_image_list_free(cat_image *list, size_t n);

/* Called once per vector: return 0 to go on, anything else to stop (the
 * iteration then fails with DS_EINVAL "stopped by the callback" unless the
 * callback filled the iteration's ds_err itself, e.g. reached through ctx;
 * cat_vectors_iterate clears that ds_err on entry). v is valid during the
 * call only. The callback may call other cat_ functions on the same db from
 * the same thread, but not cat_vectors_iterate. */
typedef int (*cat_vector_fn)(int64_t id, const float *v, void *ctx);

/* Stream every vector of the collection with id > after_id (0: all), in
 * increasing id order, e.g. to build the in-memory index at start-up
 * (after_id lets an index loaded from its file catch up). O(N) reads; one
 * vector buffer is allocated. Holds the connection during the whole scan.
 * A stored vector of the wrong length fails with DS_EFORMAT. */
int cat_vectors_iterate(cat_db *db, int64_t coll, int64_t after_id, cat_vector_fn fn,
                        void *ctx, ds_err *err);

/* Number of images (= vectors) in the collection, and the highest id (0 when
 * empty). O(N) over the collection's index entries. */
int cat_vector_count(cat_db *db, int64_t coll, int64_t *count, int64_t *max_id, ds_err *err);

/* ---- filters ----------------------------------------------------------------- */

/* Which images may be returned by a search: the description of
 * base/filter.h, which each part compiles its own way (the catalog to an id
 * list here, Milvus to a boolean expression). */
typedef ds_filter cat_filter;

/* 1 when f (may be NULL) filters nothing, else 0. */
int cat_filter_is_empty(const cat_filter *f);

/* The ids of the collection's images that pass f, in increasing order: an
 * array of *n_out malloc'ed into *ids_out (NULL when none; caller frees).
 * Filters on patent fields exclude images with no patent row. Substrings
 * are matched literally ('%' and '_' are plain characters); case folding is
 * ASCII only. Bad dates are DS_EINVAL. One SQL query, O(images in the
 * collection); an empty filter returns every id. */
int cat_filter_ids(cat_db *db, int64_t coll, const cat_filter *f, int64_t **ids_out,
                   size_t *n_out, ds_err *err);

/* ---- search by words ------------------------------------------------------ */

/* The full-text index (schema 3): FTS5 over each patent's title,
 * claim_text, applicant_name, assignee_name, inventor_names, patent_id and
 * loc_class, tokenizer 'porter unicode61 remove_diacritics 2', kept in step
 * with the patents table by triggers (every write path: upsert, delete, a
 * collection dropped). An older catalog gets it built by cat_open, once,
 * which says so on stderr.
 *
 * The Locarno class headings ("Chairs" for 06-01) are not indexed: a US
 * design patent's title must name its article (37 CFR 1.153), so the
 * heading seldom adds a word the title lacks, while headings list whole
 * families ("Beds, mattresses, ...") and would make one word match every
 * patent of a class, pushing down those that name it. loc:06-01 searches a
 * class. */

/* Snippet markers: U+E000 before each matched word, U+E001 after it. The
 * API escapes the snippet (HTML or JSON) first and then turns the markers
 * into <mark>...</mark> or ranges: escaping first means no patent text
 * ever becomes markup, a private-use character has no meaning of its own
 * and passes JSON escaping unchanged, and a patent that holds one itself
 * can at worst misplace a highlight. */
#define CAT_MARK_START "\xee\x80\x80"
#define CAT_MARK_END "\xee\x80\x81"

/* Field weights of the BM25 ranking: title above claim above names. */
#define CAT_WEIGHT_TITLE 10.0
#define CAT_WEIGHT_CLAIM 4.0
#define CAT_WEIGHT_NAMES 2.0
#define CAT_WEIGHT_IDS 1.0

typedef struct cat_text_hit {
    char *patent_id;
    double score;      /* BM25 with the weights above, negated: higher is better */
    char **matched;    /* the query's words and phrases this patent holds, as typed */
    size_t n_matched;
    char *snippet;     /* a few words around the best match, with CAT_MARK_* */
} cat_text_hit;

struct tq_query;

/* Run a parsed query (src/text/query.h) over collection coll: the patents
 * that match it and pass f (may be NULL; applied in the same statement,
 * before ranking), best first (ties in the order the patents were indexed,
 * so pages are stable), from rank offset, at most limit. *out is an array
 * of *n_out (NULL when none), freed with cat_text_hits_free; *total (may be
 * NULL) receives the number of matches in all (one more query). Cost:
 * FTS5's ranking of the collection's matches (a word in every patent ranks
 * them all: ~0.25 s per 200,000), plus, with a filter, a join per match;
 * then one lookup per hit returned for its terms and snippet. */
int cat_text_search(cat_db *db, int64_t coll, const struct tq_query *q, const cat_filter *f,
                    size_t offset, size_t limit, cat_text_hit **out, size_t *n_out,
                    int64_t *total, ds_err *err);

void cat_text_hits_free(cat_text_hit *hits, size_t n);

/* ---- stats ------------------------------------------------------------- */

#define CAT_STATS_TOP 10

typedef struct cat_stats {
    int64_t patents;
    int64_t images;
    int64_t jobs;
    int64_t db_bytes;     /* main file + WAL on disk */
    size_t n_loc;         /* entries used in loc[] */
    struct {
        char loc_class[24];  /* a Locarno class "NN-NN" ("" for none) */
        int64_t images;      /* images of patents in that class */
    } loc[CAT_STATS_TOP];    /* most frequent first */
} cat_stats;

/* Counts for one collection. O(N) (a few scans); no allocation. */
int cat_stats_get(cat_db *db, int64_t coll, cat_stats *out, ds_err *err);

/* Every Locarno class of the collection's patents with its number of
 * images, in class order: fn(ctx, class, images) per class (non-zero stops). */
typedef int (*cat_loc_fn)(void *ctx, const char *loc_class, int64_t images);
int cat_loc_counts(cat_db *db, int64_t coll, cat_loc_fn fn, void *ctx, ds_err *err);

/* ---- import jobs ------------------------------------------------------- */

#define CAT_JOB_MAX_FAILURES 1000  /* failures kept per job; later ones only counted */

typedef struct cat_job {
    int64_t id;
    int64_t collection_id;  /* 0 when none */
    char *kind;             /* e.g. "import" */
    char *status;           /* "running", then "done", "failed" or "cancelled" */
    char *source;           /* what is imported, e.g. a path; may be NULL */
    int64_t done, skipped, failed;
    char *failures;         /* JSON array of {"item", "reason"} */
    int64_t started_at, finished_at;  /* finished_at 0 while running */
} cat_job;

/* Record a new running job; *id_out receives its id. coll may be 0. */
int cat_job_start(cat_db *db, int64_t coll, const char *kind, const char *source,
                  int64_t *id_out, ds_err *err);

/* Set the job's counters (absolute values, not increments). */
int cat_job_update(cat_db *db, int64_t job, int64_t done, int64_t skipped, int64_t failed,
                   ds_err *err);

/* Append {"item": item, "reason": reason} to the job's failures (kept up to
 * CAT_JOB_MAX_FAILURES entries). The failed counter is not touched. */
int cat_job_add_failure(cat_db *db, int64_t job, const char *item, const char *reason,
                        ds_err *err);

/* Mark the job finished with the given status and the current time. */
int cat_job_finish(cat_db *db, int64_t job, const char *status, ds_err *err);

/* Mark the collection's jobs of this kind still "running" as
 * "interrupted": called by whoever holds the collection's import lock, when
 * such a job can only be left over from a process that died. *n_out (may be
 * NULL) receives how many. */
int cat_job_interrupt_stale(cat_db *db, int64_t coll, const char *kind, int64_t *n_out,
                            ds_err *err);

/* Fetch a job (DS_ENOTFOUND if absent); freed with cat_job_clear. */
int cat_job_get(cat_db *db, int64_t job, cat_job *out, ds_err *err);

/* The most recent job (highest id) of a collection (0: of any), or
 * DS_ENOTFOUND. */
int cat_job_latest(cat_db *db, int64_t coll, cat_job *out, ds_err *err);

/* The ids of the most recent jobs of a collection (0: of any), newest first,
 * at most max of them into ids. */
int cat_job_recent(cat_db *db, int64_t coll, int64_t *ids, size_t max, size_t *n, ds_err *err);

void cat_job_clear(cat_job *j);

#endif
