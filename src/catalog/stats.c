/* stats.c - counts for one collection (see catalog.h). */
#include "catalog/catalog_internal.h"
#include "base/str.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* One count query bound to the collection (mutex held). */
static int count(cat_db *db, int slot, const char *sql, int64_t coll, int64_t *out,
                 ds_err *err)
{
    sqlite3_stmt *st = cat__stmt(db, slot, sql, err);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, coll);
    int rc = 0;
    if (sqlite3_step(st) == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    else
        rc = cat__sqlfail(db, err, "catalog: counting");
    sqlite3_reset(st);
    return rc;
}

static int64_t file_bytes(const char *path, const char *suffix)
{
    char full[4200];
    struct stat sb;
    /* A cut name could be another file's: count nothing rather than it. */
    if (ds_snprintf(full, sizeof full, NULL, "%s%s", path, suffix) != 0)
        return 0;
    return stat(full, &sb) == 0 ? (int64_t)sb.st_size : 0;
}

int cat_stats_get(cat_db *db, int64_t coll, cat_stats *out, ds_err *err)
{
    int rc = -1, step;
    memset(out, 0, sizeof *out);
    cat__lock(db);
    if (count(db, CS_STATS_PATENTS, "SELECT count(*) FROM patents WHERE collection_id = ?1",
              coll, &out->patents, err) < 0 ||
        count(db, CS_STATS_IMAGES, "SELECT count(*) FROM images WHERE collection_id = ?1", coll,
              &out->images, err) < 0 ||
        count(db, CS_STATS_JOBS, "SELECT count(*) FROM jobs WHERE collection_id = ?1", coll,
              &out->jobs, err) < 0)
        goto out;
    sqlite3_stmt *st = cat__stmt(db, CS_STATS_LOC,
                                 "SELECT coalesce(p.loc_class, ''), count(*) AS n "
                                 "FROM images i JOIN patents p ON p.collection_id = "
                                 "i.collection_id AND p.patent_id = i.patent_id "
                                 "WHERE i.collection_id = ?1 GROUP BY 1 "
                                 "ORDER BY n DESC, 1 LIMIT ?2",
                                 err);
    if (!st)
        goto out;
    sqlite3_bind_int64(st, 1, coll);
    sqlite3_bind_int(st, 2, CAT_STATS_TOP);
    while ((step = sqlite3_step(st)) == SQLITE_ROW && out->n_loc < CAT_STATS_TOP) {
        const char *loc = (const char *)sqlite3_column_text(st, 0);
        snprintf(out->loc[out->n_loc].loc_class, sizeof out->loc[0].loc_class, "%s",
                 loc ? loc : "");
        out->loc[out->n_loc].images = sqlite3_column_int64(st, 1);
        out->n_loc++;
    }
    sqlite3_reset(st);
    if (step != SQLITE_DONE && step != SQLITE_ROW) {
        cat__sqlfail(db, err, "catalog: counting Locarno classes");
        goto out;
    }
    out->db_bytes = file_bytes(db->path, "") + file_bytes(db->path, "-wal");
    rc = 0;
out:
    cat__unlock(db);
    return rc;
}

int cat_loc_counts(cat_db *db, int64_t coll, cat_loc_fn fn, void *ctx, ds_err *err)
{
    int rc = -1, step;
    cat__lock(db);
    sqlite3_stmt *st = cat__stmt(db, CS_LOC_ALL,
                                 "SELECT p.loc_class, count(*) FROM images i JOIN patents p "
                                 "ON p.collection_id = i.collection_id AND p.patent_id = "
                                 "i.patent_id WHERE i.collection_id = ?1 AND p.loc_class IS NOT "
                                 "NULL GROUP BY 1 ORDER BY 1",
                                 err);
    if (!st)
        goto out;
    sqlite3_bind_int64(st, 1, coll);
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        if (fn(ctx, (const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1)) != 0)
            break;
    sqlite3_reset(st);
    if (step != SQLITE_DONE && step != SQLITE_ROW) {
        cat__sqlfail(db, err, "catalog: counting Locarno classes");
        goto out;
    }
    rc = 0;
out:
    cat__unlock(db);
    return rc;
}
