/* text.c - search by words over the catalog's full-text index (see
 * catalog.h and src/text/query.h). */
#include "catalog/catalog_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text/query.h"

/* ds_phrases(patents_fts): a bit mask of the FTS5 phrases (the query's
 * terms, numbered as tq_fts5_phrases lists them) with an instance in the
 * current row. TQ_MAX_TERMS is 64, so they fit. */
static void phrases_fn(const Fts5ExtensionApi *x, Fts5Context *fts, sqlite3_context *out,
                       int n_args, sqlite3_value **args)
{
    (void)n_args, (void)args;
    int n = 0;
    if (x->xInstCount(fts, &n) != SQLITE_OK) {
        sqlite3_result_error(out, "ds_phrases: cannot count instances", -1);
        return;
    }
    uint64_t mask = 0;
    for (int i = 0; i < n; i++) {
        int phrase, column, offset;
        if (x->xInst(fts, i, &phrase, &column, &offset) == SQLITE_OK && phrase >= 0 &&
            phrase < 64)
            mask |= (uint64_t)1 << phrase;
    }
    sqlite3_result_int64(out, (sqlite3_int64)mask);
}

int cat__text_register(cat_db *db, ds_err *err)
{
    fts5_api *api = NULL;
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(db->db, "SELECT fts5(?1)", -1, &st, NULL) != SQLITE_OK) {
        cat__sqlfail(db, err, "catalog: this SQLite has no FTS5");
        goto out;
    }
    sqlite3_bind_pointer(st, 1, (void *)&api, "fts5_api_ptr", NULL);
    sqlite3_step(st);
    if (!api || api->iVersion < 2) {
        ds_fail(err, DS_EUNSUPPORTED, "catalog: this SQLite's FTS5 is too old");
        goto out;
    }
    if (api->xCreateFunction(api, "ds_phrases", NULL, phrases_fn, NULL) != SQLITE_OK) {
        ds_fail(err, DS_ENOMEM, "catalog: registering ds_phrases");
        goto out;
    }
    rc = 0;
out:
    sqlite3_finalize(st);
    return rc;
}

#define STR_(x) #x
#define STR(x) STR_(x)

/* The weights in the order of the columns. */
#define BM25_WEIGHTS                                                                   \
    STR(CAT_WEIGHT_TITLE) ", " STR(CAT_WEIGHT_CLAIM) ", " STR(CAT_WEIGHT_NAMES) ", "     \
    STR(CAT_WEIGHT_NAMES) ", " STR(CAT_WEIGHT_NAMES) ", " STR(CAT_WEIGHT_IDS) ", "       \
    STR(CAT_WEIGHT_IDS)

#define TEXT_FROM_WHERE                                                                \
    "FROM patents_fts JOIN patent_text_ids t ON t.id = patents_fts.rowid "              \
    "JOIN patents p ON p.collection_id = t.collection_id AND p.patent_id = t.patent_id " \
    "WHERE patents_fts MATCH ?12 AND t.collection_id = ?1 " CAT__PATENT_FILTER_SQL      \
    "AND (?11 IS NULL OR p.patent_id IN (SELECT value FROM json_each(?11))) "

static const char search_sql[] =
    "SELECT p.patent_id, bm25(patents_fts, " BM25_WEIGHTS ") AS score, "
    "ds_phrases(patents_fts), "
    "snippet(patents_fts, -1, '" CAT_MARK_START "', '" CAT_MARK_END "', '\xe2\x80\xa6', 24) "
    TEXT_FROM_WHERE "ORDER BY score, p.patent_id LIMIT ?13 OFFSET ?14";

static const char count_sql[] = "SELECT count(*) " TEXT_FROM_WHERE;

void cat_text_hits_free(cat_text_hit *hits, size_t n)
{
    for (size_t i = 0; hits && i < n; i++) {
        free(hits[i].patent_id);
        free(hits[i].snippet);
        for (size_t k = 0; k < hits[i].n_matched; k++)
            free(hits[i].matched[k]);
        free(hits[i].matched);
    }
    free(hits);
}

/* The terms of mask (positive ones only), as typed, into hit. */
static int fill_matched(cat_text_hit *hit, uint64_t mask, const tq_node *const *terms,
                        const int *positive, size_t n_terms)
{
    for (size_t i = 0; i < n_terms && i < 64; i++) {
        if (!(mask >> i & 1) || !positive[i])
            continue;
        int dup = 0; /* the same word typed twice is named once */
        for (size_t k = 0; k < hit->n_matched && !dup; k++)
            dup = strcmp(hit->matched[k], terms[i]->text) == 0;
        if (dup)
            continue;
        char **grown = realloc(hit->matched, (hit->n_matched + 1) * sizeof *grown);
        if (!grown)
            return -1;
        hit->matched = grown;
        if (!(hit->matched[hit->n_matched] = strdup(terms[i]->text)))
            return -1;
        hit->n_matched++;
    }
    return 0;
}

/* Bind everything but the paging; json is the id list's, freed by the caller. */
static int bind_query(sqlite3_stmt *st, int64_t coll, const cat_filter *f, const char *match,
                      char **json, ds_err *err)
{
    static const cat_filter none = {0};
    if (cat__bind_filter(st, coll, f ? f : &none, json, err) < 0)
        return -1;
    sqlite3_bind_text(st, 12, match, -1, SQLITE_STATIC);
    return 0;
}

static int count_matches(cat_db *db, int64_t coll, const cat_filter *f, const char *match,
                         int64_t *total, ds_err *err)
{
    char *json = NULL;
    int rc = -1;
    sqlite3_stmt *st = cat__stmt(db, CS_TEXT_COUNT, count_sql, err);
    if (!st)
        return -1;
    if (bind_query(st, coll, f, match, &json, err) < 0)
        goto out;
    if (sqlite3_step(st) != SQLITE_ROW) {
        cat__sqlfail(db, err, "catalog: counting a search by words");
        goto out;
    }
    *total = sqlite3_column_int64(st, 0);
    rc = 0;
out:
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    free(json);
    return rc;
}

int cat_text_search(cat_db *db, int64_t coll, const struct tq_query *q, const cat_filter *f,
                    size_t offset, size_t limit, cat_text_hit **out, size_t *n_out,
                    int64_t *total, ds_err *err)
{
    *out = NULL;
    *n_out = 0;
    if (total)
        *total = 0;
    const tq_node *terms[TQ_MAX_TERMS];
    int positive[TQ_MAX_TERMS];
    size_t n_terms = tq_fts5_phrases(q, terms, positive, TQ_MAX_TERMS);
    if (n_terms > TQ_MAX_TERMS)
        return ds_fail(err, DS_ETOOBIG, "query: more than %d words or phrases", TQ_MAX_TERMS);
    char *match = NULL, *json = NULL;
    if (tq_to_fts5(q, &match, err) < 0)
        return -1;
    cat_text_hit *hits = NULL;
    size_t n = 0, cap = 0;
    int rc = -1, step;
    cat__lock(db);
    sqlite3_stmt *st = cat__stmt(db, CS_TEXT_SEARCH, search_sql, err);
    if (!st)
        goto out;
    if (bind_query(st, coll, f, match, &json, err) < 0)
        goto out;
    sqlite3_bind_int64(st, 13, limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
    sqlite3_bind_int64(st, 14, offset > INT64_MAX ? INT64_MAX : (int64_t)offset);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        cat_text_hit *grown = cat__grow(hits, &cap, n, sizeof *hits, 16, err);
        if (!grown)
            goto out;
        hits = grown;
        cat_text_hit *hit = &hits[n++];
        memset(hit, 0, sizeof *hit);
        int oom = 0;
        hit->patent_id = cat__col_text(st, 0, &oom);
        hit->score = -sqlite3_column_double(st, 1);
        hit->snippet = cat__col_text(st, 3, &oom);
        if (oom || fill_matched(hit, (uint64_t)sqlite3_column_int64(st, 2), terms, positive,
                                n_terms) < 0) {
            ds_fail(err, DS_ENOMEM, "catalog: out of memory");
            goto out;
        }
    }
    if (step != SQLITE_DONE) {
        cat__sqlfail(db, err, "catalog: searching by words");
        goto out;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    free(json);
    json = NULL;
    if (total && count_matches(db, coll, f, match, total, err) < 0)
        goto out;
    *out = hits;
    *n_out = n;
    hits = NULL;
    n = 0;
    rc = 0;
out:
    if (st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    cat__unlock(db);
    cat_text_hits_free(hits, n);
    free(json);
    free(match);
    return rc;
}
