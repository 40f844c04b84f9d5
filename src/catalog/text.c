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

/* A collection's rows of the index: rowids (coll << 40) .. ((coll + 1) << 40) - 1
 * (the migration to schema 3 says why). */
#define COLL_SHIFT 40

/* With filters: every match of the collection joined to its patent, the
 * filters applied, then ranked. ?1 collection, ?2..?11 the filter,
 * ?12 the MATCH expression, ?13/?14 limit/offset, ?15/?16 the rowid range. */
#define FILTERED_FROM_WHERE                                                              \
    "FROM patents_fts JOIN patent_text_ids t ON t.id = patents_fts.rowid "                \
    "JOIN patents p ON p.collection_id = t.collection_id AND p.patent_id = t.patent_id "   \
    "WHERE patents_fts MATCH ?12 AND patents_fts.rowid BETWEEN ?15 AND ?16 "               \
    "AND t.collection_id = ?1 " CAT__PATENT_FILTER_SQL                                    \
    "AND (?11 IS NULL OR p.patent_id IN (SELECT value FROM json_each(?11))) "

static const char filtered_sql[] =
    "SELECT patents_fts.rowid, p.patent_id, bm25(patents_fts, " BM25_WEIGHTS ") AS score "
    FILTERED_FROM_WHERE "ORDER BY score, patents_fts.rowid LIMIT ?13 OFFSET ?14";

static const char filtered_count_sql[] = "SELECT count(*) " FILTERED_FROM_WHERE;

/* Without filters: FTS5 ranks the collection's rowid range alone, and only
 * the page is joined to the patents (the subquery's LIMIT keeps SQLite
 * from flattening it into the join). ?1 MATCH, ?2/?3 the rowid range,
 * ?4/?5 limit/offset. */
static const char unfiltered_sql[] =
    "SELECT top.id, p.patent_id, top.score FROM "
    "(SELECT rowid AS id, bm25(patents_fts, " BM25_WEIGHTS ") AS score FROM patents_fts "
    " WHERE patents_fts MATCH ?1 AND rowid BETWEEN ?2 AND ?3 "
    " ORDER BY score, rowid LIMIT ?4 OFFSET ?5) top "
    "JOIN patent_text_ids t ON t.id = top.id "
    "JOIN patents p ON p.collection_id = t.collection_id AND p.patent_id = t.patent_id "
    "ORDER BY top.score, top.id";

static const char unfiltered_count_sql[] =
    "SELECT count(*) FROM patents_fts WHERE patents_fts MATCH ?1 AND rowid BETWEEN ?2 AND ?3";

/* Per hit of the page: which terms it matched, and its snippet. */
static const char detail_sql[] =
    "SELECT ds_phrases(patents_fts), "
    "snippet(patents_fts, -1, '" CAT_MARK_START "', '" CAT_MARK_END "', '\xe2\x80\xa6', 24) "
    "FROM patents_fts WHERE patents_fts MATCH ?1 AND rowid = ?2";

/* The same for every hit of the page in one statement: ?2/?3 the smallest
 * and largest of their rowids, ?4 them all (a JSON array). FTS5 walks the
 * matches between the two; the unary + keeps the IN from becoming one
 * rowid lookup (and one new MATCH) per hit. Used for queries with a
 * prefix: without a prefix index FTS5 builds a prefix's doclist by merging
 * those of every word it begins, at each MATCH it runs, which made ten
 * lookups cost ten merges (11 ms each for "wils*" at 1M patents, see
 * bench/RESULTS.md). */
static const char details_sql[] =
    "SELECT rowid, ds_phrases(patents_fts), "
    "snippet(patents_fts, -1, '" CAT_MARK_START "', '" CAT_MARK_END "', '\xe2\x80\xa6', 24) "
    "FROM patents_fts WHERE patents_fts MATCH ?1 AND rowid BETWEEN ?2 AND ?3 "
    "AND +rowid IN (SELECT value FROM json_each(?4))";

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

/* The statement that ranks (or counts, when count is set), with every
 * parameter bound but the paging; *json (the id list's) is the caller's to
 * free after the statement's use. */
static sqlite3_stmt *prepare(cat_db *db, int64_t coll, const cat_filter *f, const char *match,
                             int count, char **json, ds_err *err)
{
    int filtered = !cat_filter_is_empty(f);
    sqlite3_stmt *st;
    if (filtered)
        st = count ? cat__stmt(db, CS_TEXT_COUNT, filtered_count_sql, err)
                   : cat__stmt(db, CS_TEXT_SEARCH, filtered_sql, err);
    else
        st = count ? cat__stmt(db, CS_TEXT_COUNT_ALL, unfiltered_count_sql, err)
                   : cat__stmt(db, CS_TEXT_RANK, unfiltered_sql, err);
    if (!st)
        return NULL;
    int64_t first = coll << COLL_SHIFT, last = ((coll + 1) << COLL_SHIFT) - 1;
    if (filtered) {
        if (cat__bind_filter(st, coll, f, json, err) < 0)
            return NULL;
        sqlite3_bind_text(st, 12, match, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 15, first);
        sqlite3_bind_int64(st, 16, last);
    } else {
        sqlite3_bind_text(st, 1, match, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, first);
        sqlite3_bind_int64(st, 3, last);
    }
    return st;
}

static void release(sqlite3_stmt *st)
{
    if (st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
}

static int count_matches(cat_db *db, int64_t coll, const cat_filter *f, const char *match,
                         int64_t *total, ds_err *err)
{
    char *json = NULL;
    int rc = -1;
    sqlite3_stmt *st = prepare(db, coll, f, match, 1, &json, err);
    if (!st)
        goto out;
    if (sqlite3_step(st) != SQLITE_ROW) {
        cat__sqlfail(db, err, "catalog: counting a search by words");
        goto out;
    }
    *total = sqlite3_column_int64(st, 0);
    rc = 0;
out:
    release(st);
    free(json);
    return rc;
}

/* The matched terms and the snippet of one hit (its index rowid). */
static int fill_detail(cat_db *db, cat_text_hit *hit, int64_t rowid, const char *match,
                       const tq_node *const *terms, const int *positive, size_t n_terms,
                       ds_err *err)
{
    sqlite3_stmt *st = cat__stmt(db, CS_TEXT_DETAIL, detail_sql, err);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, match, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, rowid);
    int rc = -1, oom = 0;
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        hit->snippet = cat__col_text(st, 1, &oom);
        if (oom || fill_matched(hit, (uint64_t)sqlite3_column_int64(st, 0), terms, positive,
                                n_terms) < 0)
            ds_fail(err, DS_ENOMEM, "catalog: out of memory");
        else
            rc = 0;
    } else if (step == SQLITE_DONE) {
        rc = 0; /* changed since it was ranked: no detail */
    } else {
        cat__sqlfail(db, err, "catalog: reading a match");
    }
    release(st);
    return rc;
}

/* The matched terms and snippets of hits[0..n) (rowids[i] the index rowid
 * of hits[i]) in one statement (details_sql); a hit whose row changed
 * since it was ranked gets none, as with fill_detail. */
static int fill_details(cat_db *db, cat_text_hit *hits, const int64_t *rowids, size_t n,
                        const char *match, const tq_node *const *terms, const int *positive,
                        size_t n_terms, ds_err *err)
{
    if (n == 0)
        return 0;
    char *json = malloc(n * 22 + 2);
    if (!json)
        return ds_fail(err, DS_ENOMEM, "catalog: out of memory");
    int64_t lo = rowids[0], hi = rowids[0];
    size_t len = 0;
    json[len++] = '[';
    for (size_t i = 0; i < n; i++) {
        len += (size_t)sprintf(json + len, "%s%lld", i ? "," : "", (long long)rowids[i]);
        lo = rowids[i] < lo ? rowids[i] : lo;
        hi = rowids[i] > hi ? rowids[i] : hi;
    }
    json[len++] = ']';
    json[len] = '\0';
    int rc = -1, step;
    sqlite3_stmt *st = cat__stmt(db, CS_TEXT_DETAILS, details_sql, err);
    if (!st)
        goto out;
    sqlite3_bind_text(st, 1, match, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, lo);
    sqlite3_bind_int64(st, 3, hi);
    sqlite3_bind_text(st, 4, json, (int)len, SQLITE_STATIC);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t rowid = sqlite3_column_int64(st, 0);
        size_t i = 0;
        while (i < n && rowids[i] != rowid)
            i++;
        if (i == n || hits[i].snippet)
            continue;
        int oom = 0;
        hits[i].snippet = cat__col_text(st, 2, &oom);
        if (oom || fill_matched(&hits[i], (uint64_t)sqlite3_column_int64(st, 1), terms,
                                positive, n_terms) < 0) {
            ds_fail(err, DS_ENOMEM, "catalog: out of memory");
            goto out;
        }
    }
    if (step != SQLITE_DONE) {
        cat__sqlfail(db, err, "catalog: reading the matches");
        goto out;
    }
    rc = 0;
out:
    release(st);
    free(json);
    return rc;
}

static int has_prefix(const tq_node *const *terms, size_t n_terms)
{
    for (size_t i = 0; i < n_terms; i++)
        if (terms[i]->prefix)
            return 1;
    return 0;
}

int cat_text_search(cat_db *db, int64_t coll, const struct tq_query *q, const cat_filter *f,
                    size_t offset, size_t limit, cat_text_hit **out, size_t *n_out,
                    int64_t *total, ds_err *err)
{
    *out = NULL;
    *n_out = 0;
    if (total)
        *total = 0;
    if (coll < 0 || coll >= ((int64_t)1 << (62 - COLL_SHIFT)))
        return ds_fail(err, DS_EINVAL, "catalog: no collection %lld", (long long)coll);
    const tq_node *terms[TQ_MAX_TERMS];
    int positive[TQ_MAX_TERMS];
    size_t n_terms = tq_fts5_phrases(q, terms, positive, TQ_MAX_TERMS);
    if (n_terms > TQ_MAX_TERMS)
        return ds_fail(err, DS_ETOOBIG, "query: more than %d words or phrases", TQ_MAX_TERMS);
    char *match = NULL, *json = NULL;
    if (tq_to_fts5(q, &match, err) < 0)
        return -1;
    cat_text_hit *hits = NULL;
    int64_t *rowids = NULL;
    size_t n = 0, cap = 0, rcap = 0;
    int rc = -1, step;
    int filtered = !cat_filter_is_empty(f);
    cat__lock(db);
    sqlite3_stmt *st = prepare(db, coll, f, match, 0, &json, err);
    if (!st)
        goto out;
    sqlite3_bind_int64(st, filtered ? 13 : 4, limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
    sqlite3_bind_int64(st, filtered ? 14 : 5, offset > INT64_MAX ? INT64_MAX : (int64_t)offset);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        cat_text_hit *grown = cat__grow(hits, &cap, n, sizeof *hits, 16, err);
        if (!grown)
            goto out;
        hits = grown;
        int64_t *grown_ids = cat__grow(rowids, &rcap, n, sizeof *rowids, 16, err);
        if (!grown_ids)
            goto out;
        rowids = grown_ids;
        cat_text_hit *hit = &hits[n];
        memset(hit, 0, sizeof *hit);
        rowids[n++] = sqlite3_column_int64(st, 0);
        int oom = 0;
        hit->patent_id = cat__col_text(st, 1, &oom);
        hit->score = -sqlite3_column_double(st, 2);
        if (oom) {
            ds_fail(err, DS_ENOMEM, "catalog: out of memory");
            goto out;
        }
    }
    if (step != SQLITE_DONE) {
        cat__sqlfail(db, err, "catalog: searching by words");
        goto out;
    }
    release(st);
    st = NULL;
    free(json);
    json = NULL;
    if (n > 1 && has_prefix(terms, n_terms)) {
        if (fill_details(db, hits, rowids, n, match, terms, positive, n_terms, err) < 0)
            goto out;
    } else {
        for (size_t i = 0; i < n; i++)
            if (fill_detail(db, &hits[i], rowids[i], match, terms, positive, n_terms, err) < 0)
                goto out;
    }
    if (total && count_matches(db, coll, f, match, total, err) < 0)
        goto out;
    *out = hits;
    *n_out = n;
    hits = NULL;
    n = 0;
    rc = 0;
out:
    release(st);
    cat__unlock(db);
    cat_text_hits_free(hits, n);
    free(rowids);
    free(json);
    free(match);
    return rc;
}
