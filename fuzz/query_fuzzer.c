/* query_fuzzer.c - fuzz target for the query language of search by words
 * (src/text/query.h) and what it compiles to: the FTS5 MATCH expression
 * (src/text/fts5.c) and the Milvus legs (src/text/terms.h).
 *
 * Input: the query's bytes, as a user could send them (NUL and invalid
 * UTF-8 included).
 *
 * Asserted (a broken one aborts):
 *   - a refusal is DS_EINVAL or DS_ETOOBIG with a message that starts
 *     "query:" and a position within the query;
 *   - an accepted query compiles, and a real FTS5 table with the catalog's
 *     columns and tokenizer accepts the expression (never an FTS5 syntax
 *     error) and runs it to the end;
 *   - tq_fts5_phrases lists n_terms terms;
 *   - its Milvus legs compile (or are refused as DS_ETOOBIG) to an
 *     expression whose every string constant is closed.
 * Replay with `make build/fuzz/query_fuzzer_replay &&
 * build/fuzz/query_fuzzer_replay fuzz/corpus/query_fuzzer`. */
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text/query.h"
#include "text/terms.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(int cond)
{
    if (!cond)
        abort();
}

/* One FTS5 table for the whole run, with a row for the expressions to
 * scan. */
static sqlite3_stmt *fts_statement(void)
{
    static sqlite3 *db;
    static sqlite3_stmt *st;
    if (st)
        return st;
    require(sqlite3_open(":memory:", &db) == SQLITE_OK);
    require(sqlite3_exec(db,
                         "CREATE VIRTUAL TABLE t USING fts5(title, claim_text, applicant_name, "
                         "assignee_name, inventor_names, patent_id, loc_class, "
                         "tokenize='porter unicode61 remove_diacritics 2');"
                         "INSERT INTO t VALUES ('Office chair', 'An ornamental chair.', 'Acme', "
                         "'Acme', 'Smith, John', 'D0701016', '06-01');",
                         NULL, NULL, NULL) == SQLITE_OK);
    require(sqlite3_prepare_v2(db, "SELECT rowid, bm25(t) FROM t WHERE t MATCH ?1", -1, &st,
                               NULL) == SQLITE_OK);
    return st;
}

/* The string constants of a Milvus expression are all closed. */
static void check_milvus(const char *e)
{
    int in_string = 0;
    for (const char *p = e; *p; p++) {
        if (in_string && *p == '\\') {
            p++;
            require(*p == '"' || *p == '\\');
            continue;
        }
        if (*p == '"')
            in_string = !in_string;
    }
    require(!in_string);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 3 * TQ_MAX_BYTES)
        return 0;
    tq_query *q = NULL;
    ds_err err = {0};
    size_t at = (size_t)-1;
    if (tq_parse((const char *)data, size, &q, &at, &err) != 0) {
        require(q == NULL);
        require(err.code == DS_EINVAL || err.code == DS_ETOOBIG);
        require(strncmp(err.msg, "query:", 6) == 0);
        require(at <= size);
        return 0;
    }
    require(q && q->root && q->n_terms >= 1 && q->n_terms <= TQ_MAX_TERMS);

    char *fts = NULL;
    require(tq_to_fts5(q, &fts, &err) == 0 && fts);
    sqlite3_stmt *st = fts_statement();
    sqlite3_bind_text(st, 1, fts, -1, SQLITE_STATIC);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        ;
    require(step == SQLITE_DONE); /* never an FTS5 syntax error */
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);

    const tq_node *terms[TQ_MAX_TERMS];
    int positive[TQ_MAX_TERMS];
    require(tq_fts5_phrases(q, terms, positive, TQ_MAX_TERMS) == q->n_terms);

    tx_legs legs = {0};
    if (tx_query_legs(q, &legs, &err) == 0) {
        char *expr = NULL;
        require(legs.n >= 1 && legs.n <= TX_LEGS_MAX);
        if (tx_legs_milvus_expr(&legs, "terms", &expr, &err) == 0) {
            check_milvus(expr);
            free(expr);
        } else {
            require(err.code == DS_EINVAL || err.code == DS_ENOMEM);
        }
        tx_legs_clear(&legs);
    } else {
        require(err.code == DS_ETOOBIG);
    }
    free(fts);
    tq_free(q);
    return 0;
}
