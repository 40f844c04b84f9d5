/* filter.c - which images a search may return (see catalog.h).
 *
 * One cached statement serves every filter: each condition is written as
 * `(?N IS NULL OR <condition>)` and an unused field is bound to NULL, so no
 * SQL is ever built from the user's text. Substrings use instr(), in which
 * '%' and '_' have no special meaning. The patent id list is bound as one
 * JSON array and read with json_each, so its length is not limited by the
 * number of SQL parameters. */
#include "catalog/catalog_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char filter_sql[] =
    "SELECT i.id FROM images i LEFT JOIN patents p "
    "ON p.collection_id = i.collection_id AND p.patent_id = i.patent_id "
    "WHERE i.collection_id = ?1 " CAT__PATENT_FILTER_SQL
    "AND (?11 IS NULL OR i.patent_id IN (SELECT value FROM json_each(?11))) "
    "ORDER BY i.id";

/* A set string field: non-NULL and not empty. */
static int set(const char *s)
{
    return s && *s;
}

int cat_filter_is_empty(const cat_filter *f) { return ds_filter_is_empty(f); }

/* The ids as a JSON array of strings, malloc'ed; NULL when out of memory. */
static char *json_string_array(const char *const *s, size_t n)
{
    size_t cap = 3;
    for (size_t i = 0; i < n; i++)
        cap += 3 + 6 * strlen(s[i] ? s[i] : ""); /* worst case: every byte \u00XX */
    char *out = malloc(cap);
    if (!out)
        return NULL;
    size_t len = 0;
    out[len++] = '[';
    for (size_t i = 0; i < n; i++) {
        if (i)
            out[len++] = ',';
        out[len++] = '"';
        for (const unsigned char *c = (const unsigned char *)(s[i] ? s[i] : ""); *c; c++) {
            if (*c == '"' || *c == '\\') {
                out[len++] = '\\';
                out[len++] = (char)*c;
            } else if (*c < 0x20) {
                len += (size_t)snprintf(out + len, cap - len, "\\u%04x", *c);
            } else {
                out[len++] = (char)*c;
            }
        }
        out[len++] = '"';
    }
    out[len++] = ']';
    out[len] = '\0';
    return out;
}

int cat__bind_filter(sqlite3_stmt *st, int64_t coll, const cat_filter *f, char **json,
                       ds_err *err)
{
    const char *dates[4] = {f->pub_date_from, f->pub_date_to, f->filing_date_from,
                            f->filing_date_to};
    static const char *const date_names[4] = {"pub_date_from", "pub_date_to",
                                              "filing_date_from", "filing_date_to"};
    const char *texts[4] = {f->applicant, f->assignee, f->inventor, f->applicant_country};
    sqlite3_bind_int64(st, 1, coll);
    if (set(f->loc_class))
        cat__bind_text(st, 2, f->loc_class);
    for (int i = 0; i < 4; i++) {
        if (!set(dates[i]))
            continue;
        if (!cat__is_iso_date(dates[i]))
            return ds_fail(err, DS_EINVAL, "filter %s \"%s\" is not a date yyyy-mm-dd",
                           date_names[i], dates[i]);
        cat__bind_text(st, 3 + i, dates[i]);
    }
    for (int i = 0; i < 4; i++)
        if (set(texts[i]))
            cat__bind_text(st, 7 + i, texts[i]);
    if (f->n_patent_ids > 0) {
        if (!f->patent_ids)
            return ds_fail(err, DS_EINVAL, "filter: n_patent_ids set but no patent_ids");
        *json = json_string_array(f->patent_ids, f->n_patent_ids);
        if (!*json)
            return ds_fail(err, DS_ENOMEM, "catalog: out of memory");
        sqlite3_bind_text(st, 11, *json, -1, SQLITE_STATIC);
    }
    return 0;
}

int cat_filter_ids(cat_db *db, int64_t coll, const cat_filter *f, int64_t **ids_out,
                   size_t *n_out, ds_err *err)
{
    static const cat_filter none = {0};
    int64_t *ids = NULL;
    size_t n = 0, cap = 0;
    char *json = NULL;
    int rc = -1, step;
    *ids_out = NULL;
    *n_out = 0;
    cat__lock(db);
    sqlite3_stmt *st = cat__stmt(db, CS_FILTER, filter_sql, err);
    if (!st)
        goto out;
    if (cat__bind_filter(st, coll, f ? f : &none, &json, err) < 0)
        goto out;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t *grown = cat__grow(ids, &cap, n, sizeof *ids, 1024, err);
        if (!grown)
            goto out;
        ids = grown;
        ids[n++] = sqlite3_column_int64(st, 0);
    }
    if (step != SQLITE_DONE) {
        cat__sqlfail(db, err, "catalog: filtering images");
        goto out;
    }
    *ids_out = ids;
    *n_out = n;
    ids = NULL;
    rc = 0;
out:
    if (st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st); /* json is freed below */
    }
    cat__unlock(db);
    free(json);
    free(ids);
    return rc;
}
