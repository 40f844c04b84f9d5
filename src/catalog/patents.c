/* patents.c - design patents with the seed system's fields (see catalog.h). */
#include "catalog/catalog_internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PATENT_COLUMNS                                                               \
    "patent_id, kind, title, loc_class, loc_edition, pub_date, filing_date, "       \
    "grant_term, applicant_name, applicant_country, inventor_names, assignee_name, " \
    "claim_text, image_count"

void cat_patent_clear(cat_patent *p)
{
    if (!p)
        return;
    char **strings[] = {&p->patent_id,      &p->kind,          &p->title,
                        &p->loc_class,      &p->loc_edition,   &p->pub_date,
                        &p->filing_date,    &p->applicant_name, &p->applicant_country,
                        &p->inventor_names, &p->assignee_name, &p->claim_text};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
        free(*strings[i]);
    memset(p, 0, sizeof *p);
}

static int check_date(const char *field, const char *s, ds_err *err)
{
    if (s && !cat__is_iso_date(s))
        return ds_fail(err, DS_EINVAL, "%s \"%s\" is not a date of the form yyyy-mm-dd", field,
                       s);
    return 0;
}

int cat_patent_upsert(cat_db *db, int64_t coll, const cat_patent *p, ds_err *err)
{
    if (!p || !p->patent_id || !*p->patent_id)
        return ds_fail(err, DS_EINVAL, "catalog: a patent needs a patent_id");
    if (check_date("pub_date", p->pub_date, err) < 0 ||
        check_date("filing_date", p->filing_date, err) < 0)
        return ds_wrap(err, "patent %s: ", p->patent_id);
    int ok = 0;
    cat__lock(db);
    if (cat__write_begin(db, err) < 0)
        goto out;
    sqlite3_stmt *st = cat__stmt(
        db, CS_PATENT_UPSERT,
        "INSERT INTO patents (collection_id, " PATENT_COLUMNS ", updated_at) VALUES "
        "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16) "
        "ON CONFLICT (collection_id, patent_id) DO UPDATE SET kind = excluded.kind, "
        "title = excluded.title, loc_class = excluded.loc_class, "
        "loc_edition = excluded.loc_edition, pub_date = excluded.pub_date, "
        "filing_date = excluded.filing_date, grant_term = excluded.grant_term, "
        "applicant_name = excluded.applicant_name, "
        "applicant_country = excluded.applicant_country, "
        "inventor_names = excluded.inventor_names, assignee_name = excluded.assignee_name, "
        "claim_text = excluded.claim_text, image_count = excluded.image_count, "
        "updated_at = excluded.updated_at",
        err);
    if (!st)
        goto end;
    sqlite3_bind_int64(st, 1, coll);
    cat__bind_text(st, 2, p->patent_id);
    cat__bind_text(st, 3, p->kind);
    cat__bind_text(st, 4, p->title);
    cat__bind_text(st, 5, p->loc_class);
    cat__bind_text(st, 6, p->loc_edition);
    cat__bind_text(st, 7, p->pub_date);
    cat__bind_text(st, 8, p->filing_date);
    if (p->grant_term > 0)
        sqlite3_bind_int(st, 9, p->grant_term);
    cat__bind_text(st, 10, p->applicant_name);
    cat__bind_text(st, 11, p->applicant_country);
    cat__bind_text(st, 12, p->inventor_names);
    cat__bind_text(st, 13, p->assignee_name);
    cat__bind_text(st, 14, p->claim_text);
    if (p->image_count >= 0)
        sqlite3_bind_int(st, 15, p->image_count);
    sqlite3_bind_int64(st, 16, (int64_t)time(NULL));
    if (sqlite3_step(st) != SQLITE_DONE) {
        cat__sqlfail(db, err, "catalog: storing a patent");
        ds_wrap(err, "patent %s: ", p->patent_id);
        sqlite3_reset(st);
        goto end;
    }
    sqlite3_reset(st);
    ok = 1;
end:
    if (cat__write_end(db, ok, err) < 0)
        ok = 0;
out:
    cat__unlock(db);
    return ok ? 0 : -1;
}

int cat_patent_ensure(cat_db *db, int64_t coll, const char *patent_id, ds_err *err)
{
    if (!patent_id || !*patent_id)
        return ds_fail(err, DS_EINVAL, "catalog: a patent needs a patent_id");
    int ok = 0;
    cat__lock(db);
    if (cat__write_begin(db, err) < 0)
        goto out;
    sqlite3_stmt *st = cat__stmt(db, CS_PATENT_ENSURE,
                                 "INSERT INTO patents (collection_id, patent_id, updated_at) "
                                 "VALUES (?1, ?2, ?3) ON CONFLICT (collection_id, patent_id) "
                                 "DO NOTHING",
                                 err);
    if (!st)
        goto end;
    sqlite3_bind_int64(st, 1, coll);
    cat__bind_text(st, 2, patent_id);
    sqlite3_bind_int64(st, 3, (int64_t)time(NULL));
    if (sqlite3_step(st) != SQLITE_DONE)
        cat__sqlfail(db, err, "catalog: storing a patent");
    else
        ok = 1;
    sqlite3_reset(st);
end:
    if (cat__write_end(db, ok, err) < 0)
        ok = 0;
out:
    cat__unlock(db);
    return ok ? 0 : -1;
}

int cat_patent_get(cat_db *db, int64_t coll, const char *patent_id, cat_patent *out,
                   ds_err *err)
{
    int rc = -1, oom = 0;
    memset(out, 0, sizeof *out);
    if (!patent_id)
        return ds_fail(err, DS_EINVAL, "catalog: no patent_id");
    cat__lock(db);
    sqlite3_stmt *st = cat__stmt(db, CS_PATENT_GET,
                                 "SELECT " PATENT_COLUMNS " FROM patents "
                                 "WHERE collection_id = ?1 AND patent_id = ?2",
                                 err);
    if (!st)
        goto out;
    sqlite3_bind_int64(st, 1, coll);
    cat__bind_text(st, 2, patent_id);
    int step = sqlite3_step(st);
    if (step == SQLITE_DONE) {
        ds_fail(err, DS_ENOTFOUND, "no patent %s in collection %lld", patent_id,
                (long long)coll);
        goto out;
    }
    if (step != SQLITE_ROW) {
        cat__sqlfail(db, err, "catalog: reading a patent");
        goto out;
    }
    out->patent_id = cat__col_text(st, 0, &oom);
    out->kind = cat__col_text(st, 1, &oom);
    out->title = cat__col_text(st, 2, &oom);
    out->loc_class = cat__col_text(st, 3, &oom);
    out->loc_edition = cat__col_text(st, 4, &oom);
    out->pub_date = cat__col_text(st, 5, &oom);
    out->filing_date = cat__col_text(st, 6, &oom);
    out->grant_term = sqlite3_column_int(st, 7);
    out->applicant_name = cat__col_text(st, 8, &oom);
    out->applicant_country = cat__col_text(st, 9, &oom);
    out->inventor_names = cat__col_text(st, 10, &oom);
    out->assignee_name = cat__col_text(st, 11, &oom);
    out->claim_text = cat__col_text(st, 12, &oom);
    out->image_count =
        sqlite3_column_type(st, 13) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 13);
    if (oom) {
        cat_patent_clear(out);
        ds_fail(err, DS_ENOMEM, "catalog: out of memory");
        goto out;
    }
    rc = 0;
out:
    if (st)
        sqlite3_reset(st);
    cat__unlock(db);
    return rc;
}

int cat_patent_delete(cat_db *db, int64_t coll, const char *patent_id, ds_err *err)
{
    if (!patent_id)
        return ds_fail(err, DS_EINVAL, "catalog: no patent_id");
    static const char *const sql[2] = {
        "DELETE FROM images WHERE collection_id = ?1 AND patent_id = ?2",
        "DELETE FROM patents WHERE collection_id = ?1 AND patent_id = ?2",
    };
    static const int slots[2] = {CS_PATENT_DELETE_IMAGES, CS_PATENT_DELETE};
    int ok = 0;
    cat__lock(db);
    if (cat__write_begin(db, err) < 0)
        goto out;
    for (int i = 0; i < 2; i++) {
        sqlite3_stmt *st = cat__stmt(db, slots[i], sql[i], err);
        if (!st)
            goto end;
        sqlite3_bind_int64(st, 1, coll);
        cat__bind_text(st, 2, patent_id);
        int step = sqlite3_step(st);
        sqlite3_reset(st);
        if (step != SQLITE_DONE) {
            cat__sqlfail(db, err, "catalog: deleting a patent");
            goto end;
        }
    }
    ok = 1;
end:
    if (cat__write_end(db, ok, err) < 0)
        ok = 0;
out:
    cat__unlock(db);
    return ok ? 0 : -1;
}
