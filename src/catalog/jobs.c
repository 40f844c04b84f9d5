/* jobs.c - import jobs: status, counters and a bounded list of failures
 * (see catalog.h). */
#include "catalog/catalog_internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define JOB_COLUMNS                                                                     \
    "id, coalesce(collection_id, 0), kind, status, source, done, skipped, failed, "     \
    "failures, started_at, coalesce(finished_at, 0)"

void cat_job_clear(cat_job *j)
{
    if (!j)
        return;
    free(j->kind);
    free(j->status);
    free(j->source);
    free(j->failures);
    memset(j, 0, sizeof *j);
}

/* Run one write statement, already bound, as its own transaction (mutex
 * held). A statement that changes no row is DS_ENOTFOUND. */
static int run_write(cat_db *db, sqlite3_stmt *st, int64_t job, ds_err *err)
{
    int ok = 0;
    if (cat__write_begin(db, err) < 0)
        return -1;
    int step = sqlite3_step(st);
    if (step != SQLITE_DONE)
        cat__sqlfail(db, err, "catalog: updating a job");
    else if (job && sqlite3_changes(db->db) == 0)
        ds_fail(err, DS_ENOTFOUND, "no job with id %lld", (long long)job);
    else
        ok = 1;
    sqlite3_reset(st);
    return cat__write_end(db, ok, err) < 0 ? -1 : 0;
}

int cat_job_start(cat_db *db, int64_t coll, const char *kind, const char *source,
                  int64_t *id_out, ds_err *err)
{
    int rc = -1;
    if (!kind || !*kind)
        return ds_fail(err, DS_EINVAL, "catalog: a job needs a kind");
    cat__lock(db);
    sqlite3_stmt *st = cat__stmt(db, CS_JOB_INSERT,
                                 "INSERT INTO jobs (collection_id, kind, status, source, "
                                 "started_at) VALUES (?1, ?2, 'running', ?3, ?4)",
                                 err);
    if (!st)
        goto out;
    if (coll)
        sqlite3_bind_int64(st, 1, coll);
    cat__bind_text(st, 2, kind);
    cat__bind_text(st, 3, source);
    sqlite3_bind_int64(st, 4, (int64_t)time(NULL));
    if (run_write(db, st, 0, err) < 0)
        goto out;
    if (id_out)
        *id_out = sqlite3_last_insert_rowid(db->db);
    rc = 0;
out:
    cat__unlock(db);
    return rc;
}

int cat_job_update(cat_db *db, int64_t job, int64_t done, int64_t skipped, int64_t failed,
                   ds_err *err)
{
    int rc = -1;
    cat__lock(db);
    sqlite3_stmt *st = cat__stmt(db, CS_JOB_UPDATE,
                                 "UPDATE jobs SET done = ?2, skipped = ?3, failed = ?4 "
                                 "WHERE id = ?1",
                                 err);
    if (st) {
        sqlite3_bind_int64(st, 1, job);
        sqlite3_bind_int64(st, 2, done);
        sqlite3_bind_int64(st, 3, skipped);
        sqlite3_bind_int64(st, 4, failed);
        rc = run_write(db, st, job, err);
    }
    cat__unlock(db);
    return rc;
}

int cat_job_add_failure(cat_db *db, int64_t job, const char *item, const char *reason,
                        ds_err *err)
{
    int rc = -1;
    cat__lock(db);
    /* json_object escapes the text; past the cap the list is left as it is. */
    sqlite3_stmt *st = cat__stmt(
        db, CS_JOB_FAILURE,
        "UPDATE jobs SET failures = CASE WHEN json_array_length(failures) < ?4 "
        "THEN json_insert(failures, '$[#]', json_object('item', ?2, 'reason', ?3)) "
        "ELSE failures END WHERE id = ?1",
        err);
    if (st) {
        sqlite3_bind_int64(st, 1, job);
        cat__bind_text(st, 2, item ? item : "");
        cat__bind_text(st, 3, reason ? reason : "");
        sqlite3_bind_int(st, 4, CAT_JOB_MAX_FAILURES);
        rc = run_write(db, st, job, err);
    }
    cat__unlock(db);
    return rc;
}

int cat_job_finish(cat_db *db, int64_t job, const char *status, ds_err *err)
{
    int rc = -1;
    if (!status || !*status)
        return ds_fail(err, DS_EINVAL, "catalog: a finished job needs a status");
    cat__lock(db);
    sqlite3_stmt *st = cat__stmt(db, CS_JOB_FINISH,
                                 "UPDATE jobs SET status = ?2, finished_at = ?3 WHERE id = ?1",
                                 err);
    if (st) {
        sqlite3_bind_int64(st, 1, job);
        cat__bind_text(st, 2, status);
        sqlite3_bind_int64(st, 3, (int64_t)time(NULL));
        rc = run_write(db, st, job, err);
    }
    cat__unlock(db);
    return rc;
}

int cat_job_interrupt_stale(cat_db *db, int64_t coll, const char *kind, int64_t *n_out,
                            ds_err *err)
{
    int rc = -1;
    cat__lock(db);
    sqlite3_stmt *st = cat__stmt(db, CS_JOB_STALE,
                                 "UPDATE jobs SET status = 'interrupted', finished_at = ?3 "
                                 "WHERE collection_id = ?1 AND kind = ?2 AND status = 'running'",
                                 err);
    if (st) {
        sqlite3_bind_int64(st, 1, coll);
        cat__bind_text(st, 2, kind);
        sqlite3_bind_int64(st, 3, (int64_t)time(NULL));
        rc = run_write(db, st, 0, err);
        if (rc == 0 && n_out)
            *n_out = sqlite3_changes(db->db);
    }
    cat__unlock(db);
    return rc;
}

/* One job from a bound query (mutex held). */
static int read_job(cat_db *db, sqlite3_stmt *st, cat_job *out, ds_err *err)
{
    int oom = 0, rc = -1;
    int step = sqlite3_step(st);
    if (step == SQLITE_DONE) {
        ds_fail(err, DS_ENOTFOUND, "no such job");
        goto out;
    }
    if (step != SQLITE_ROW) {
        cat__sqlfail(db, err, "catalog: reading a job");
        goto out;
    }
    out->id = sqlite3_column_int64(st, 0);
    out->collection_id = sqlite3_column_int64(st, 1);
    out->kind = cat__col_text(st, 2, &oom);
    out->status = cat__col_text(st, 3, &oom);
    out->source = cat__col_text(st, 4, &oom);
    out->done = sqlite3_column_int64(st, 5);
    out->skipped = sqlite3_column_int64(st, 6);
    out->failed = sqlite3_column_int64(st, 7);
    out->failures = cat__col_text(st, 8, &oom);
    out->started_at = sqlite3_column_int64(st, 9);
    out->finished_at = sqlite3_column_int64(st, 10);
    if (oom) {
        cat_job_clear(out);
        ds_fail(err, DS_ENOMEM, "catalog: out of memory");
        goto out;
    }
    rc = 0;
out:
    sqlite3_reset(st);
    return rc;
}

int cat_job_get(cat_db *db, int64_t job, cat_job *out, ds_err *err)
{
    int rc = -1;
    memset(out, 0, sizeof *out);
    cat__lock(db);
    sqlite3_stmt *st =
        cat__stmt(db, CS_JOB_GET, "SELECT " JOB_COLUMNS " FROM jobs WHERE id = ?1", err);
    if (st) {
        sqlite3_bind_int64(st, 1, job);
        rc = read_job(db, st, out, err);
    }
    cat__unlock(db);
    return rc;
}

int cat_job_latest(cat_db *db, int64_t coll, cat_job *out, ds_err *err)
{
    int rc = -1;
    memset(out, 0, sizeof *out);
    cat__lock(db);
    sqlite3_stmt *st = cat__stmt(db, CS_JOB_LATEST,
                                 "SELECT " JOB_COLUMNS " FROM jobs "
                                 "WHERE ?1 = 0 OR collection_id = ?1 ORDER BY id DESC LIMIT 1",
                                 err);
    if (st) {
        sqlite3_bind_int64(st, 1, coll);
        rc = read_job(db, st, out, err);
    }
    cat__unlock(db);
    return rc;
}

int cat_job_recent(cat_db *db, int64_t coll, int64_t *ids, size_t max, size_t *n, ds_err *err)
{
    int rc = -1, step;
    *n = 0;
    cat__lock(db);
    sqlite3_stmt *st = cat__stmt(db, CS_JOB_RECENT,
                                 "SELECT id FROM jobs WHERE ?1 = 0 OR collection_id = ?1 "
                                 "ORDER BY id DESC LIMIT ?2",
                                 err);
    if (!st)
        goto out;
    sqlite3_bind_int64(st, 1, coll);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
    while ((step = sqlite3_step(st)) == SQLITE_ROW && *n < max)
        ids[(*n)++] = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (step != SQLITE_DONE && step != SQLITE_ROW) {
        cat__sqlfail(db, err, "catalog: listing jobs");
        goto out;
    }
    rc = 0;
out:
    cat__unlock(db);
    return rc;
}
