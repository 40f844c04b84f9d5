/* catalog_internal.h - what the catalog's .c files share: the connection
 * object, the statement cache and the transaction helpers. Not for use
 * outside src/catalog/. */
#ifndef DS_CATALOG_INTERNAL_H
#define DS_CATALOG_INTERNAL_H

#include <pthread.h>
#include <sqlite3.h>

#include "catalog/catalog.h"

/* One slot per cached prepared statement. */
enum cat_stmt_slot {
    CS_COLL_GET_NAME,
    CS_COLL_GET_ID,
    CS_COLL_INSERT,
    CS_COLL_LIST,
    CS_PATENT_UPSERT,
    CS_PATENT_ENSURE,
    CS_PATENT_GET,
    CS_PATENT_DELETE,
    CS_PATENT_DELETE_IMAGES,
    CS_IMAGE_INSERT,
    CS_IMAGE_GET,
    CS_IMAGE_BY_NAME,
    CS_IMAGE_VECTOR,
    CS_IMAGE_HASH,
    CS_IMAGE_KNOWN,
    CS_IMAGE_OF_PATENT,
    CS_IMAGE_DELETE,
    CS_VEC_ITER,
    CS_VEC_COUNT,
    CS_FILTER,
    CS_STATS_PATENTS,
    CS_STATS_IMAGES,
    CS_STATS_JOBS,
    CS_STATS_LOC,
    CS_JOB_INSERT,
    CS_JOB_UPDATE,
    CS_JOB_FAILURE,
    CS_JOB_FINISH,
    CS_JOB_STALE,
    CS_JOB_RECENT,
    CS_LOC_ALL,
    CS_JOB_GET,
    CS_JOB_LATEST,
    CS_TEXT_SEARCH,
    CS_TEXT_COUNT,
    CS_TEXT_RANK,
    CS_TEXT_COUNT_ALL,
    CS_TEXT_DETAIL,
    CS_TEXT_DETAILS,
    CS_COUNT
};

struct cat_db {
    sqlite3 *db;
    pthread_mutex_t mu;   /* recursive; held for each call and a whole batch */
    int in_batch;         /* inside cat_begin .. cat_commit/rollback */
    int version_found;    /* user_version at open */
    int64_t dim_coll;     /* cache of one collection's dimension (0: empty) */
    int dim;
    char path[4096];
    sqlite3_stmt *stmts[CS_COUNT];
};

/* Copy SQLite's current message into err: "<what>: <sqlite message>", with a
 * ds_code chosen from the SQLite result code. Returns -1. Call with the
 * mutex held, right after the failing call. */
int cat__sqlfail(cat_db *db, ds_err *err, const char *what);

/* Make room for one more element in a growing array: when n == *cap, double
 * *cap (first to `first`) and realloc. Returns the array to use from now on,
 * or NULL with err (list is then still valid, for the caller to free). */
void *cat__grow(void *list, size_t *cap, size_t n, size_t elem, size_t first, ds_err *err);

/* The cached statement for slot, prepared on first use, reset and with its
 * bindings cleared. NULL (err filled) on failure. Mutex held. */
sqlite3_stmt *cat__stmt(cat_db *db, int slot, const char *sql, ds_err *err);

/* Run SQL with no results (mutex held). */
int cat__exec(cat_db *db, const char *sql, ds_err *err);

/* Write bracket: BEGIN IMMEDIATE outside a batch, a savepoint inside one.
 * cat__write_end commits (ok) or undoes (!ok); it returns 0 or -1 and only
 * overwrites err when committing fails. Mutex held. */
int cat__write_begin(cat_db *db, ds_err *err);
int cat__write_end(cat_db *db, int ok, ds_err *err);

void cat__lock(cat_db *db);
void cat__unlock(cat_db *db);

/* The dimension of collection coll (DS_ENOTFOUND if none). Mutex held. */
int cat__coll_dim(cat_db *db, int64_t coll, int *dim, ds_err *err);

/* Bind a string or NULL (NULL pointer binds SQL NULL). */
int cat__bind_text(sqlite3_stmt *st, int i, const char *s);

/* The conditions of a filter on the patents row p (a cat_filter, bound by
 * cat__bind_filter to ?2..?10), ANDed: filter.c's image filter and text.c's
 * search by words share them, so a filter means the same in both. */
#define CAT__PATENT_FILTER_SQL                                               \
    /* Locarno: exact, or a class prefix followed by '-' ("12" -> "12-08") */ \
    "AND (?2 IS NULL OR p.loc_class = ?2 "                                   \
    "     OR substr(p.loc_class, 1, length(?2) + 1) = ?2 || '-') "           \
    "AND (?3 IS NULL OR p.pub_date >= ?3) "                                  \
    "AND (?4 IS NULL OR p.pub_date <= ?4) "                                  \
    "AND (?5 IS NULL OR p.filing_date >= ?5) "                               \
    "AND (?6 IS NULL OR p.filing_date <= ?6) "                               \
    "AND (?7 IS NULL OR instr(lower(p.applicant_name), lower(?7)) > 0) "     \
    "AND (?8 IS NULL OR instr(lower(p.assignee_name), lower(?8)) > 0) "      \
    "AND (?9 IS NULL OR instr(lower(p.inventor_names), lower(?9)) > 0) "     \
    "AND (?10 IS NULL OR lower(p.applicant_country) = lower(?10)) "

/* Bind the collection to ?1 and f's fields to ?2..?10, and f's patent ids
 * as a JSON array to ?11 (*json, malloc'ed, must outlive the statement's
 * use; the caller frees it). Bad dates are DS_EINVAL. */
int cat__bind_filter(sqlite3_stmt *st, int64_t coll, const cat_filter *f, char **json,
                     ds_err *err);

/* Register on the connection the FTS5 helper cat_text_search uses
 * (ds_phrases: which terms a row matched). Called by cat_open. */
int cat__text_register(cat_db *db, ds_err *err);

/* strdup of a text column, or NULL for SQL NULL; *oom set on failure. */
char *cat__col_text(sqlite3_stmt *st, int i, int *oom);

/* 1 if s is "yyyy-mm-dd" with a plausible month and day. */
int cat__is_iso_date(const char *s);

#endif
