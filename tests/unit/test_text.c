/* test_text.c - search by words: the query language (src/text/query.h),
 * its FTS5 compiler, the tokenizer and stemmer (src/text/text.h) against
 * SQLite's own, the Milvus terms (src/text/terms.h) and the catalog's
 * full-text index, on real SQLite files under ds_test_tmpdir. */
#include "../suites.h"

#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <fcntl.h>

#include "catalog/catalog.h"
#include "text/query.h"
#include "text/terms.h"
#include "text/text.h"

/* ---- helpers --------------------------------------------------------- */

/* The FTS5 expression of q, malloc'ed, or NULL with the parse error in
 * *err. */
static char *compile(const char *q, size_t len, ds_err *err, size_t *err_at)
{
    tq_query *parsed = NULL;
    char *fts = NULL;
    if (tq_parse(q, len, &parsed, err_at, err) == 0)
        tq_to_fts5(parsed, &fts, err);
    tq_free(parsed);
    return fts;
}

/* An FTS5 table of the catalog's columns in memory, with a few rows. */
static const char *const text_columns =
    "title, claim_text, applicant_name, assignee_name, inventor_names, patent_id, loc_class";

static sqlite3 *memory_fts(void)
{
    sqlite3 *db = NULL;
    char sql[1024];
    sqlite3_open(":memory:", &db);
    snprintf(sql, sizeof sql,
             "CREATE VIRTUAL TABLE t USING fts5(%s, tokenize='porter unicode61 "
             "remove_diacritics 2');"
             "INSERT INTO t(rowid, %s) VALUES "
             "(1, 'Office chair', 'The ornamental design for an office chair, as shown.', "
             "  'Acme Corp', 'Acme Corp', 'Smith, John', 'D0701016', '06-01'),"
             "(2, 'Folding chair', 'The ornamental design for a folding chair.', "
             "  'Zeta Ltd', NULL, 'Müller, Jürgen', 'D0701017', '06-01'),"
             "(3, 'Lamp', 'The ornamental design for a lampshade with a swivel base.', "
             "  'Acme Corp', 'Lumen GmbH', 'Doe, Jane', 'D0701018', '26-05'),"
             "(4, 'Table', 'The ornamental design for a café table.', "
             "  'Orb \"Quoted\" Inc', NULL, 'Chair, Ann', 'D0701019', '06-03');",
             text_columns, text_columns);
    CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
    return db;
}

/* The rowids q finds, as "1,3" (in rowid order), into out; "ERROR: ..."
 * when SQLite refuses the expression, "PARSE: ..." when the parser does. */
static void run_query(sqlite3 *db, const char *q, char *out, size_t cap)
{
    ds_err err = {0};
    char *fts = compile(q, strlen(q), &err, NULL);
    out[0] = '\0';
    if (!fts) {
        snprintf(out, cap, "PARSE: %s", err.msg);
        return;
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT rowid FROM t WHERE t MATCH ?1 ORDER BY rowid", -1, &st,
                           NULL) != SQLITE_OK) {
        snprintf(out, cap, "ERROR: %s", sqlite3_errmsg(db));
        free(fts);
        return;
    }
    sqlite3_bind_text(st, 1, fts, -1, SQLITE_STATIC);
    int step;
    size_t len = 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        len += (size_t)snprintf(out + len, cap - len, "%s%lld", len ? "," : "",
                                (long long)sqlite3_column_int64(st, 0));
    if (step != SQLITE_DONE)
        snprintf(out, cap, "ERROR: %s (%s)", sqlite3_errmsg(db), fts);
    sqlite3_finalize(st);
    free(fts);
}

/* ---- the query language ------------------------------------------------ */

static void test_compile_shapes(void)
{
    static const struct {
        const char *q, *fts;
    } cases[] = {
        {"chair", "(\"chair\")"},
        {"office chair", "((\"office\") AND (\"chair\"))"},
        {"office AND chair", "((\"office\") AND (\"chair\"))"},
        {"\"office chair\"", "(\"office chair\")"},
        {"lamp*", "(\"lamp\" *)"},
        {"\"office ch\"*", "(\"office ch\" *)"},
        {"chair OR stool", "((\"chair\") OR (\"stool\"))"},
        {"chair -folding", "((\"chair\") NOT (\"folding\"))"},
        {"chair NOT folding", "((\"chair\") NOT (\"folding\"))"},
        {"chair -\"rocking chair\"", "((\"chair\") NOT (\"rocking chair\"))"},
        {"a b OR c", "(((\"a\") AND (\"b\")) OR (\"c\"))"},
        {"(chair OR stool) -(folding OR rocking)",
         "(((\"chair\") OR (\"stool\")) NOT ((\"folding\") OR (\"rocking\")))"},
        {"title:chair", "(title : \"chair\")"},
        {"TITLE:chair", "(title : \"chair\")"},
        {"claim:\"swivel base\"", "(claim_text : \"swivel base\")"},
        {"applicant:acme assignee:lumen inventor:smith",
         "((applicant_name : \"acme\") AND (assignee_name : \"lumen\") AND "
         "(inventor_names : \"smith\"))"},
        {"patent:D0701016", "(patent_id : \"D0701016\")"},
        {"id:D0701016", "(patent_id : \"D0701016\")"},
        {"loc:06-01", "(loc_class : ^ \"06-01\")"},
        {"title:(chair OR stool)", "((title : \"chair\") OR (title : \"stool\"))"},
        {"title: chair", "(title : \"chair\")"},
        {"-title:folding chair", "((\"chair\") NOT (title : \"folding\"))"},
        {"NEAR(a b)", "((\"NEAR\") AND ((\"a\") AND (\"b\")))"},
        {"chair & table", "((\"chair\") AND (\"table\"))"},
        {"chair - table", "((\"chair\") AND (\"table\"))"},
        {"t-shirt", "(\"t-shirt\")"},
        {"chair \xf0\x9f\x98\x80", "(\"chair\")"},
        {"a \" OR title:x \" b", "((\"a\") AND (\" OR title:x \") AND (\"b\"))"},
        {"\"a\"\"b\"", "PARSE"}, /* no way to write '"' inside a phrase */
        {"\"x\" NOT {title}", "PARSE"},
        {"chair OR or", "((\"chair\") OR (\"or\"))"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ds_err err = {0};
        char *fts = compile(cases[i].q, strlen(cases[i].q), &err, NULL);
        if (strcmp(cases[i].fts, "PARSE") == 0) {
            CHECKF(fts == NULL, "%s accepted as %s", cases[i].q, fts);
            free(fts);
            continue;
        }
        CHECKF(fts && strcmp(fts, cases[i].fts) == 0, "%s -> %s (want %s)", cases[i].q,
               fts ? fts : err.msg, cases[i].fts);
        free(fts);
    }
}

static void test_refusals(void)
{
    static const struct {
        const char *q;
        const char *msg;
        size_t at; /* 0-based character */
    } cases[] = {
        {"", "no word to search for", 0},
        {"   ", "no word to search for", 0},
        {"\"office chair", "unclosed quote", 0},
        {"chair \"office", "unclosed quote", 6},
        {"*", "'*' must follow a word", 0},
        {"chair *", "'*' must follow a word", 6},
        {"la*mp", "'*' may only end a word", 2},
        {"NEAR(a b", "unclosed '('", 4},
        {"(chair", "unclosed '('", 0},
        {"chair)", "')' without a '('", 5},
        {"()", "empty group", 1},
        {"-", "no word to search for", 0},
        {"-chair", "at least one word or phrase that must match", 1},
        {"-chair -lamp", "at least one word or phrase that must match", 1},
        {"NOT chair", "at least one word or phrase that must match", 4},
        {"chair OR -lamp", "at least one word or phrase that must match", 10},
        {"lamp (-chair)", "at least one word or phrase that must match", 7},
        {"--chair", "not another '-'", 0},
        {"chair NOT", "NOT must be followed", 6},
        {"OR chair", "OR needs", 0},
        {"chair OR", "OR needs", 6},
        {"chair OR OR lamp", "OR needs", 6},
        {"AND chair", "AND needs", 0},
        {"chair AND", "AND needs", 6},
        {"{title}: chair", "'{' is not part of the query language", 0},
        {"titel:chair", "unknown field \"titel:\"", 0},
        {"title:", "title: must be followed", 0},
        {"title:-chair", "put '-' before it", 6},
        {"title:(claim:chair)", "field claim: inside a group of field title:", 7},
        {"\"chair\"s", "a phrase must be followed by", 7},
        {"caf\xc3\xa9 \xff", "not valid UTF-8", 5},
        {"\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d \"", "unclosed quote", 5},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ds_err err = {0};
        size_t at = 999;
        char *fts = compile(cases[i].q, strlen(cases[i].q), &err, &at);
        CHECKF(fts == NULL, "%s accepted as %s", cases[i].q, fts ? fts : "");
        CHECKF(strstr(err.msg, cases[i].msg) != NULL, "%s: message \"%s\" lacks \"%s\"",
               cases[i].q, err.msg, cases[i].msg);
        CHECKF(at == cases[i].at, "%s: at %zu, want %zu (%s)", cases[i].q, at, cases[i].at,
               err.msg);
        CHECKF(err.code == DS_EINVAL, "%s: code %d", cases[i].q, err.code);
        free(fts);
    }
}

static void test_limits_nul_and_scripts(void)
{
    ds_err err = {0};
    size_t at;
    /* NUL inside: refused, naming it (the length is given, not strlen). */
    char *fts = compile("chair\0lamp", 10, &err, &at);
    CHECK(fts == NULL);
    CHECK_MSG(err, "NUL byte");
    CHECK(at == 5);
    /* 10,000 characters: over TQ_MAX_BYTES. */
    char *big = malloc(10001);
    memset(big, 'a', 10000);
    big[10000] = '\0';
    for (size_t i = 5; i < 10000; i += 6)
        big[i] = ' ';
    fts = compile(big, 10000, &err, &at);
    CHECK(fts == NULL);
    CHECK(err.code == DS_ETOOBIG);
    CHECK_MSG(err, "at most 2000");
    /* Within the bytes but too many words. */
    fts = compile(big, 65 * 6, &err, &at);
    CHECK(fts == NULL);
    CHECK(err.code == DS_ETOOBIG);
    CHECK_MSG(err, "more than 64 words");
    fts = compile(big, 64 * 6, &err, &at);
    CHECK(fts != NULL);
    free(fts);
    free(big);
    /* Deep parentheses. */
    char deep[200];
    size_t n = 0;
    for (int i = 0; i < 20; i++)
        deep[n++] = '(';
    deep[n++] = 'a';
    for (int i = 0; i < 20; i++)
        deep[n++] = ')';
    fts = compile(deep, n, &err, &at);
    CHECK(fts == NULL && err.code == DS_ETOOBIG);
    CHECK_MSG(err, "nested more than 16");
    /* Right-to-left text, emoji only, Cyrillic: parsed; an emoji alone says
     * nothing. */
    fts = compile("\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d title:\xd9\x83\xd8\xb1\xd8\xb3\xd9\x8a", 19,
                  &err, &at);
    CHECKF(fts && strstr(fts, "title : \"\xd9\x83"), "%s", fts ? fts : err.msg);
    free(fts);
    fts = compile("\xf0\x9f\x98\x80", 4, &err, &at);
    CHECK(fts == NULL);
    CHECK_MSG(err, "no word to search for");
}

/* Every accepted query runs on a real FTS5 table, and finds what its
 * meaning says. */
static void test_semantics_on_fts5(void)
{
    static const struct {
        const char *q, *want;
    } cases[] = {
        {"chair", "1,2,4"}, /* 4: an inventor called Chair */
        {"chairs", "1,2,4"},
        {"title:chair", "1,2"},
        {"title:chairs -folding", "1"},
        {"\"office chair\"", "1"},
        {"\"chair office\"", ""},
        {"lamp*", "3"},
        {"claim:lampshade", "3"},
        {"claim:lamp", ""},
        {"chair OR lamp", "1,2,3,4"},
        {"(chair OR lamp) -acme", "2,4"},
        {"applicant:\"acme corp\"", "1,3"},
        {"assignee:lumen", "3"},
        {"inventor:muller", "2"},
        {"inventor:MÜLLER", "2"},
        {"claim:cafe", "4"},
        {"patent:d0701018", "3"},
        {"id:D0701018", "3"},
        {"loc:06", "1,2,4"},
        {"loc:06-01", "1,2"},
        {"loc:01", ""},
        {"loc:26-05 OR loc:06-03", "3,4"},
        {"applicant:quoted", "4"},
        {"applicant:\"orb quoted\"", "4"},
        {"NEAR(chair", "PARSE"},
        {"design \"ornamental design\" -title:lamp -inventor:smith", "2,4"},
        {"chair AND NOT folding", "1,4"},
        {"a \" OR title:x \" b", ""},
        {"acme \"corp) OR (lamp\"", ""},
        {"title:table OR (claim:swivel base)", "3,4"},
    };
    sqlite3 *db = memory_fts();
    char got[2048];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_query(db, cases[i].q, got, sizeof got);
        if (strcmp(cases[i].want, "PARSE") == 0)
            CHECKF(strncmp(got, "PARSE", 5) == 0, "%s -> %s", cases[i].q, got);
        else
            CHECKF(strcmp(got, cases[i].want) == 0, "%s -> %s (want %s)", cases[i].q, got,
                   cases[i].want);
    }
    sqlite3_close(db);
}


/* ---- the tokenizer and stemmer against SQLite's -------------------------- */

typedef struct term_list {
    char text[4096];
    size_t len;
} term_list;

static int collect(const char *term, size_t n, size_t start, size_t end, void *ctx)
{
    (void)start, (void)end;
    term_list *l = ctx;
    if (l->len + n + 2 < sizeof l->text) {
        if (l->len)
            l->text[l->len++] = ' ';
        memcpy(l->text + l->len, term, n);
        l->len += n;
        l->text[l->len] = '\0';
    }
    return 0;
}

/* Each line of tests/fixtures/text/words.txt (words from USPTO titles and
 * claims, every suffix the stemmer knows on a few hundred stems, and each
 * code point of U+0080..U+017F and U+0300..U+036F in a word) indexed by
 * FTS5 with the catalog's tokenizer, its terms read back with fts5vocab,
 * and compared with tx_tokenize's, line by line. */
static void test_terms_match_sqlite(void)
{
    size_t size = 0;
    char *words = ds_test_read_file("tests/fixtures/text/words.txt", &size);
    CHECK(words != NULL);
    if (!words)
        return;
    sqlite3 *db = NULL;
    sqlite3_open(":memory:", &db);
    CHECK(sqlite3_exec(db,
                       "CREATE VIRTUAL TABLE w USING fts5(x, tokenize='porter unicode61 "
                       "remove_diacritics 2');"
                       "CREATE VIRTUAL TABLE v USING fts5vocab(w, 'instance');"
                       "BEGIN",
                       NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_stmt *ins = NULL;
    sqlite3_prepare_v2(db, "INSERT INTO w(rowid, x) VALUES (?1, ?2)", -1, &ins, NULL);
    size_t n_lines = 0;
    for (char *line = words; line < words + size;) {
        char *nl = memchr(line, '\n', (size_t)(words + size - line));
        size_t len = nl ? (size_t)(nl - line) : (size_t)(words + size - line);
        sqlite3_bind_int64(ins, 1, (sqlite3_int64)++n_lines);
        sqlite3_bind_text(ins, 2, line, (int)len, SQLITE_STATIC);
        CHECK(sqlite3_step(ins) == SQLITE_DONE);
        sqlite3_reset(ins);
        line += len + 1;
    }
    sqlite3_finalize(ins);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    CHECK(n_lines > 3000);

    /* SQLite's terms of each line, in order. */
    term_list *theirs = calloc(n_lines + 1, sizeof *theirs);
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(db, "SELECT doc, term FROM v ORDER BY doc, offset", -1, &st, NULL);
    while (sqlite3_step(st) == SQLITE_ROW) {
        sqlite3_int64 doc = sqlite3_column_int64(st, 0);
        const char *t = (const char *)sqlite3_column_text(st, 1);
        if (doc >= 1 && (size_t)doc <= n_lines)
            collect(t, strlen(t), 0, 0, &theirs[doc]);
    }
    sqlite3_finalize(st);

    size_t lineno = 0, differ = 0;
    for (char *line = words; line < words + size;) {
        char *nl = memchr(line, '\n', (size_t)(words + size - line));
        size_t len = nl ? (size_t)(nl - line) : (size_t)(words + size - line);
        term_list ours = {0};
        tx_tokenize(line, len, 1, collect, &ours);
        lineno++;
        if (strcmp(ours.text, theirs[lineno].text) != 0 && differ++ < 20)
            CHECKF(0, "line %zu \"%.*s\": ours \"%s\", SQLite's \"%s\"", lineno, (int)len, line,
                   ours.text, theirs[lineno].text);
        line += len + 1;
    }
    CHECKF(differ == 0, "%zu of %zu lines differ", differ, lineno);
    free(theirs);
    free(words);
    sqlite3_close(db);
}

/* The stemmer alone, on the paper's own examples. */
static void test_porter_examples(void)
{
    static const char *const pairs[][2] = {
        {"caresses", "caress"},   {"ponies", "poni"},       {"caress", "caress"},
        {"cats", "cat"},          {"feed", "feed"},         {"agreed", "agre"},
        {"plastered", "plaster"}, {"bled", "bled"},         {"motoring", "motor"},
        {"sing", "sing"},         {"conflated", "conflat"}, {"hopping", "hop"},
        {"filing", "file"},       {"happy", "happi"},       {"relational", "relat"},
        {"generalizations", "gener"}, {"oscillators", "oscil"}, {"chairs", "chair"},
        {"ab", "ab"},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        char w[64];
        size_t n = strlen(pairs[i][0]);
        memcpy(w, pairs[i][0], n);
        tx_porter(w, &n);
        CHECKF(n == strlen(pairs[i][1]) && memcmp(w, pairs[i][1], n) == 0, "%s -> %.*s (want %s)",
               pairs[i][0], (int)n, w, pairs[i][1]);
    }
}

/* ---- terms for Milvus ------------------------------------------------------ */

/* The rows of memory_fts, as the fields tx_patent_terms reads. */
static const char *const rows[4][TQ_FIELD_COUNT] = {
    {NULL, "Office chair", "The ornamental design for an office chair, as shown.", "Acme Corp",
     "Acme Corp", "Smith, John", "D0701016", "06-01"},
    {NULL, "Folding chair", "The ornamental design for a folding chair.", "Zeta Ltd", NULL,
     "M\xc3\xbcller, J\xc3\xbcrgen", "D0701017", "06-01"},
    {NULL, "Lamp", "The ornamental design for a lampshade with a swivel base.", "Acme Corp",
     "Lumen GmbH", "Doe, Jane", "D0701018", "26-05"},
    {NULL, "Table", "The ornamental design for a caf\xc3\xa9 table.", "Orb \"Quoted\" Inc", NULL,
     "Chair, Ann", "D0701019", "06-03"},
};

static int set_has(const tx_termset *s, const char *t)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->terms[i], t) == 0)
            return 1;
    return 0;
}

static void test_patent_terms(void)
{
    tx_termset t = {0};
    ds_err err = {0};
    int truncated = -1;
    CHECK(tx_patent_terms(rows[1], &t, &truncated, &err) == 0);
    CHECK(truncated == 0);
    static const char *const want[] = {"fold", "title:fold", "chair", "title:chair",
                                       "claim:ornament", "inventor:muller", "inventor:jurgen",
                                       "applicant:zeta", "patent:d0701017", "loc:06-01",
                                       "loc:06", "06", "01", "claim:chair"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        CHECKF(set_has(&t, want[i]), "no term %s", want[i]);
    CHECK(!set_has(&t, "title:ornament") && !set_has(&t, "chairs") && !set_has(&t, "loc:01"));
    for (size_t i = 1; i < t.n; i++)
        CHECKF(strcmp(t.terms[i - 1], t.terms[i]) < 0, "not sorted or duplicated: %s, %s",
               t.terms[i - 1], t.terms[i]);
    tx_termset_clear(&t);

    /* A huge claim: at most TX_ROW_TERMS_MAX, the title's kept. */
    size_t cap = 3000 * 8;
    char *claim = malloc(cap);
    size_t len = 0;
    for (int i = 0; i < 3000; i++)
        len += (size_t)snprintf(claim + len, cap - len, "w%d ", i);
    const char *big[TQ_FIELD_COUNT] = {NULL, "Chair", claim};
    CHECK(tx_patent_terms(big, &t, &truncated, &err) == 0);
    CHECK(truncated == 1 && t.n == TX_ROW_TERMS_MAX);
    CHECK(set_has(&t, "title:chair"));
    tx_termset_clear(&t);
    free(claim);
}

/* Does the row (its terms) pass the leg? */
static int leg_passes(const tx_leg *leg, const tx_termset *row)
{
    for (size_t i = 0; i < leg->must.n; i++)
        if (!set_has(row, leg->must.terms[i]))
            return 0;
    for (size_t k = 0; k < leg->n_must_not; k++) {
        size_t have = 0;
        for (size_t i = 0; i < leg->must_not[k].n; i++)
            have += set_has(row, leg->must_not[k].terms[i]);
        if (have == leg->must_not[k].n)
            return 0;
    }
    return 1;
}

/* The Milvus side finds what FTS5 finds: for every query, the rows its
 * legs pass (array_contains_all, evaluated here) are exactly the catalog's
 * when no leg is residual, and include them when one is. */
static void test_legs_agree_with_fts5(void)
{
    static const char *const queries[] = {
        "chair", "chairs", "title:chair", "title:chairs -folding", "\"office chair\"",
        "\"chair office\"", "lamp*", "claim:lampshade", "claim:lamp", "chair OR lamp",
        "(chair OR lamp) -acme", "applicant:\"acme corp\"", "assignee:lumen",
        "inventor:muller", "inventor:M\xc3\x9cLLER", "claim:cafe", "patent:d0701018",
        "loc:06", "loc:06-01", "loc:01", "loc:26-05 OR loc:06-03",
        "design \"ornamental design\" -title:lamp -inventor:smith", "chair AND NOT folding",
        "(chair OR table) (office OR cafe OR swivel)", "chair -(folding acme)",
        "chair -(office OR folding)", "chair -\"folding chair\"", "chair -fold*",
        "(office OR folding) chair -title:(folding lamp)",
    };
    sqlite3 *db = memory_fts();
    tx_termset row_terms[4];
    ds_err err = {0};
    for (int r = 0; r < 4; r++)
        CHECK(tx_patent_terms(rows[r], &row_terms[r], NULL, &err) == 0);
    for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
        char fts_rows[2048], leg_rows[64] = "";
        run_query(db, queries[i], fts_rows, sizeof fts_rows);
        tq_query *q = NULL;
        tx_legs legs = {0};
        CHECK(tq_parse(queries[i], strlen(queries[i]), &q, NULL, &err) == 0);
        CHECK(q && tx_query_legs(q, &legs, &err) == 0);
        int residual = 0;
        size_t len = 0;
        for (int r = 0; r < 4; r++) {
            int pass = 0;
            for (size_t l = 0; l < legs.n; l++)
                pass |= leg_passes(&legs.legs[l], &row_terms[r]);
            if (pass)
                len += (size_t)snprintf(leg_rows + len, sizeof leg_rows - len, "%s%d",
                                        len ? "," : "", r + 1);
        }
        for (size_t l = 0; l < legs.n; l++)
            residual |= legs.legs[l].residual;
        if (!residual) {
            CHECKF(strcmp(fts_rows, leg_rows) == 0, "%s: Milvus legs find %s, FTS5 %s",
                   queries[i], leg_rows, fts_rows);
        } else {
            /* every FTS5 row among the candidates */
            for (char *p = fts_rows; *p; p++)
                if (*p >= '1' && *p <= '4')
                    CHECKF(strchr(leg_rows, *p) != NULL, "%s: FTS5 row %c not a candidate (%s)",
                           queries[i], *p, leg_rows);
        }
        tx_legs_clear(&legs);
        tq_free(q);
    }
    for (int r = 0; r < 4; r++)
        tx_termset_clear(&row_terms[r]);
    sqlite3_close(db);
}

static void test_legs_shapes_and_milvus_expr(void)
{
    static const struct {
        const char *q, *expr;
        int residual, prefix;
    } cases[] = {
        {"office chairs", "(array_contains_all(terms, [\"chair\", \"offic\"]))", 0, 0},
        {"title:chairs -folding",
         "(array_contains_all(terms, [\"title:chair\"]) and not array_contains_all(terms, "
         "[\"fold\"]))", 0, 0},
        {"(chair OR stool) office",
         "(array_contains_all(terms, [\"chair\", \"offic\"])) or (array_contains_all(terms, "
         "[\"offic\", \"stool\"]))", 0, 0},
        {"\"office chair\"", "(array_contains_all(terms, [\"chair\", \"offic\"]))", 1, 0},
        {"lamp*", "", 1, 1},
        {"\"office ch\"*", "(array_contains_all(terms, [\"offic\"]))", 1, 1},
        {"chair -\"rocking chair\"", "(array_contains_all(terms, [\"chair\"]))", 1, 0},
        {"loc:06-01", "(array_contains_all(terms, [\"loc:06-01\"]))", 0, 0},
        /* a quote in a field value reaches Milvus escaped */
        {"loc:\"06\\\"]) or true or ([\"", "PARSE", 0, 0},
        {"loc:\"0\\6 ]) or true\"", "(array_contains_all(terms, [\"loc:0\\\\6])ortrue\"]))", 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ds_err err = {0};
        tq_query *q = NULL;
        tx_legs legs = {0};
        char *expr = NULL;
        if (tq_parse(cases[i].q, strlen(cases[i].q), &q, NULL, &err) != 0) {
            CHECKF(strcmp(cases[i].expr, "PARSE") == 0, "%s: %s", cases[i].q, err.msg);
            continue;
        }
        CHECK(tx_query_legs(q, &legs, &err) == 0);
        CHECK(tx_legs_milvus_expr(&legs, "terms", &expr, &err) == 0);
        CHECKF(expr && strcmp(expr, cases[i].expr) == 0, "%s -> %s (want %s)", cases[i].q,
               expr ? expr : err.msg, cases[i].expr);
        int residual = 0, prefix = 0;
        for (size_t l = 0; l < legs.n; l++) {
            residual |= legs.legs[l].residual;
            prefix |= legs.legs[l].has_prefix;
        }
        CHECKF(residual == cases[i].residual && prefix == cases[i].prefix,
               "%s: residual %d prefix %d", cases[i].q, residual, prefix);
        free(expr);
        /* the field name is checked too */
        CHECK(tx_legs_milvus_expr(&legs, "terms) or (1", &expr, &err) == -1 && !expr);
        tx_legs_clear(&legs);
        tq_free(q);
    }
    /* Too many legs: refused, not a huge expression. */
    ds_err err = {0};
    tq_query *q = NULL;
    tx_legs legs = {0};
    const char *many = "(a OR b) (c OR d) (e OR f) (g OR h) (i OR j)";
    CHECK(tq_parse(many, strlen(many), &q, NULL, &err) == 0);
    CHECK(tx_query_legs(q, &legs, &err) == -1 && err.code == DS_ETOOBIG);
    tq_free(q);
}

/* ---- the catalog's full-text index --------------------------------------- */

static const char *fresh_dir(const char *name)
{
    static char dir[512];
    snprintf(dir, sizeof dir, "%s/%s", ds_test_tmpdir, name);
    mkdir(dir, 0755);
    return dir;
}

/* Run SQL on the catalog file from another connection (foreign keys on,
 * as the catalog's own); 0 when it succeeded. */
static int raw_exec(const char *dir, const char *sql)
{
    char path[600];
    sqlite3 *db = NULL;
    snprintf(path, sizeof path, "%s/%s", dir, CAT_FILE_NAME);
    int rc = sqlite3_open(path, &db) == SQLITE_OK &&
                     sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL) == SQLITE_OK &&
                     sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK
                 ? 0
                 : -1;
    if (rc)
        fprintf(stderr, "    raw_exec: %s\n", sqlite3_errmsg(db));
    sqlite3_close(db);
    return rc;
}

/* FTS5's own check that the index holds exactly the content's tokens. */
static int index_consistent(const char *dir)
{
    return raw_exec(dir, "INSERT INTO patents_fts (patents_fts, rank) "
                         "VALUES ('integrity-check', 1)") == 0;
}

static void put_patent(cat_db *db, int64_t coll, const char *id, const char *title,
                       const char *claim, const char *applicant, const char *loc,
                       const char *pub_date)
{
    ds_err err = {0};
    cat_patent p = {.patent_id = (char *)id, .title = (char *)title, .claim_text = (char *)claim,
                    .applicant_name = (char *)applicant, .loc_class = (char *)loc,
                    .pub_date = (char *)pub_date, .image_count = -1};
    CHECKF(cat_patent_upsert(db, coll, &p, &err) == 0, "%s", err.msg);
}

/* The patent ids a query finds, "a,b" in rank order, or "ERROR: ..." */
static void search_ids(cat_db *db, int64_t coll, const char *query, const cat_filter *f,
                       size_t offset, size_t limit, char *out, size_t cap)
{
    ds_err err = {0};
    tq_query *q = NULL;
    cat_text_hit *hits = NULL;
    size_t n = 0, len = 0;
    out[0] = '\0';
    if (tq_parse(query, strlen(query), &q, NULL, &err) < 0 ||
        cat_text_search(db, coll, q, f, offset, limit, &hits, &n, NULL, &err) < 0) {
        snprintf(out, cap, "ERROR: %.200s", err.msg);
        tq_free(q);
        return;
    }
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? "," : "", hits[i].patent_id);
    cat_text_hits_free(hits, n);
    tq_free(q);
}

static cat_db *text_catalog(const char *name, int64_t *coll, int64_t *other)
{
    ds_err err = {0};
    cat_db *db = NULL;
    CHECK(cat_open(fresh_dir(name), &db, &err) == 0);
    CHECK(cat_collection_ensure(db, "designs", "m", 4, 224, "seed", NULL, coll, &err) == 0);
    if (other)
        CHECK(cat_collection_ensure(db, "others", "m", 4, 224, "seed", NULL, other, &err) == 0);
    return db;
}

/* Every write path keeps the index equal to the patents' text. */
static void test_index_follows_writes(void)
{
    int64_t coll = 0, other = 0;
    cat_db *db = text_catalog("fts_writes", &coll, &other);
    const char *dir = fresh_dir("fts_writes");
    char got[512];
    ds_err err = {0};
    put_patent(db, coll, "D1", "Office chair", "The design for an office chair.", "Acme", "06-01",
               NULL);
    put_patent(db, other, "D1", "Lamp", "The design for a lamp.", "Acme", "26-05", NULL);
    CHECK(index_consistent(dir));
    search_ids(db, coll, "chair", NULL, 0, 10, got, sizeof got);
    CHECKF(strcmp(got, "D1") == 0, "%s", got);
    search_ids(db, coll, "lamp", NULL, 0, 10, got, sizeof got);
    CHECKF(strcmp(got, "") == 0, "the other collection's patent found: %s", got);
    cat_filter acme = {.applicant = "acme"};
    search_ids(db, coll, "lamp OR chair", &acme, 0, 10, got, sizeof got);
    CHECKF(strcmp(got, "D1") == 0, "filtered, the other collection's patent found: %s", got);
    search_ids(db, other, "lamp OR chair", NULL, 0, 10, got, sizeof got);
    CHECKF(strcmp(got, "D1") == 0, "%s", got);

    /* upsert replacing the text: the old words are gone, the new ones found */
    put_patent(db, coll, "D1", "Stool", "The design for a stool.", "Acme", "06-01", NULL);
    CHECK(index_consistent(dir));
    search_ids(db, coll, "chair", NULL, 0, 10, got, sizeof got);
    CHECKF(strcmp(got, "") == 0, "stale word found: %s", got);
    search_ids(db, coll, "stools", NULL, 0, 10, got, sizeof got);
    CHECKF(strcmp(got, "D1") == 0, "%s", got);

    /* the same text again (a re-import), and only a field not indexed */
    put_patent(db, coll, "D1", "Stool", "The design for a stool.", "Acme", "06-01", "2020-02-02");
    CHECK(index_consistent(dir));
    search_ids(db, coll, "stool", NULL, 0, 10, got, sizeof got);
    CHECKF(strcmp(got, "D1") == 0, "%s", got);

    /* ensure (a row with only its id), then delete */
    CHECK(cat_patent_ensure(db, coll, "D2", &err) == 0);
    CHECK(index_consistent(dir));
    search_ids(db, coll, "patent:d2", NULL, 0, 10, got, sizeof got);
    CHECKF(strcmp(got, "D2") == 0, "%s", got);
    CHECK(cat_patent_delete(db, coll, "D1", &err) == 0);
    CHECK(index_consistent(dir));
    search_ids(db, coll, "stool", NULL, 0, 10, got, sizeof got);
    CHECKF(strcmp(got, "") == 0, "deleted patent found: %s", got);

    /* a collection dropped: its patents leave the index (the cascade) */
    cat_close(db);
    CHECK(raw_exec(dir, "DELETE FROM collections WHERE name = 'others'") == 0);
    CHECK(index_consistent(dir));
    /* abs() of the least integer is an error: the statement fails unless
     * one id is left and the dropped collection's lamp is not found */
    CHECK(raw_exec(dir, "SELECT CASE WHEN (SELECT count(*) FROM patent_text_ids) = 1 "
                        "AND (SELECT count(*) FROM patents_fts WHERE patents_fts MATCH 'lamp') = 0 "
                        "THEN 1 ELSE abs(-9223372036854775807 - 1) END") == 0);
}

/* An existing catalog (schema 2, with patents) gets its index at open,
 * saying so once on stderr. */
static void test_migration_builds_index(void)
{
    int64_t coll = 0;
    cat_db *db = text_catalog("fts_migrate", &coll, NULL);
    const char *dir = fresh_dir("fts_migrate");
    put_patent(db, coll, "D7", "Folding chair", "A folding chair.", "Acme", "06-01", NULL);
    cat_close(db);
    /* back to schema 2, as a catalog written before issue #18 */
    CHECK(raw_exec(dir, "DROP TRIGGER patents_fts_insert; DROP TRIGGER patents_fts_delete; "
                        "DROP TRIGGER patents_fts_update; DROP TABLE patents_fts; "
                        "DROP VIEW patent_text; DROP TABLE patent_text_ids; "
                        "PRAGMA user_version = 2") == 0);
    char log[600];
    snprintf(log, sizeof log, "%s/open.log", dir);
    for (int round = 0; round < 2; round++) {
        fflush(stderr);
        int saved = dup(2), fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 2);
        close(fd);
        ds_err err = {0};
        db = NULL;
        int rc = cat_open(dir, &db, &err);
        fflush(stderr);
        dup2(saved, 2);
        close(saved);
        CHECKF(rc == 0, "%s", err.msg);
        size_t n = 0;
        char *said = ds_test_read_file(log, &n);
        if (round == 0) {
            CHECK(cat_schema_version(db) == 2);
            CHECKF(said && strstr(said, "building the full-text index of 1 patents"), "%s",
                   said ? said : "");
        } else {
            CHECKF(said && n == 0, "the second open said: %s", said ? said : "");
        }
        free(said);
        char got[256];
        search_ids(db, coll, "chairs", NULL, 0, 10, got, sizeof got);
        CHECKF(strcmp(got, round == 0 ? "D7" : "D8,D7") == 0, "%s", got);
        /* a patent stored after the migration joins the index */
        if (round == 0)
            put_patent(db, coll, "D8", "Chair", "A chair.", "Acme", "06-01", NULL);
        cat_close(db);
    }
    CHECK(index_consistent(dir));
}

static void test_ranking_filters_paging(void)
{
    int64_t coll = 0;
    cat_db *db = text_catalog("fts_rank", &coll, NULL);
    /* chair in the title, in the claim only, in the applicant only */
    put_patent(db, coll, "D-claim", "Seat", "An ornamental seat, a kind of chair.", "Zeta",
               "06-01", "2020-01-01");
    put_patent(db, coll, "D-name", "Seat", "An ornamental seat.", "Chair Works", "06-01",
               "2021-01-01");
    put_patent(db, coll, "D-title", "Chair", "An ornamental seat.", "Zeta", "06-01",
               "2022-01-01");
    put_patent(db, coll, "D-lamp", "Lamp", "An ornamental lamp.", "Zeta", "26-05",
               "2022-01-01");
    char got[512];
    search_ids(db, coll, "chair", NULL, 0, 10, got, sizeof got);
    CHECKF(strcmp(got, "D-title,D-claim,D-name") == 0, "title > claim > names: %s", got);
    /* paging */
    search_ids(db, coll, "chair", NULL, 1, 1, got, sizeof got);
    CHECKF(strcmp(got, "D-claim") == 0, "%s", got);
    search_ids(db, coll, "chair", NULL, 3, 10, got, sizeof got);
    CHECKF(strcmp(got, "") == 0, "%s", got);
    /* filters before ranking: dates, names, Locarno */
    cat_filter f = {0};
    f.pub_date_to = "2021-06-30";
    search_ids(db, coll, "chair", &f, 0, 1, got, sizeof got);
    CHECKF(strcmp(got, "D-claim") == 0, "filtered before the limit: %s", got);
    memset(&f, 0, sizeof f);
    f.applicant = "works";
    search_ids(db, coll, "chair OR lamp", &f, 0, 10, got, sizeof got);
    CHECKF(strcmp(got, "D-name") == 0, "%s", got);
    memset(&f, 0, sizeof f);
    f.loc_class = "26";
    search_ids(db, coll, "ornamental", &f, 0, 10, got, sizeof got);
    CHECKF(strcmp(got, "D-lamp") == 0, "%s", got);
    const char *ids[] = {"D-name", "D-lamp"};
    memset(&f, 0, sizeof f);
    f.patent_ids = ids;
    f.n_patent_ids = 2;
    search_ids(db, coll, "seat", &f, 0, 10, got, sizeof got);
    CHECKF(strcmp(got, "D-name") == 0, "%s", got);
    memset(&f, 0, sizeof f);
    f.pub_date_from = "2020-13-45";
    search_ids(db, coll, "seat", &f, 0, 10, got, sizeof got);
    CHECKF(strstr(got, "ERROR") && strstr(got, "not a date"), "%s", got);

    /* total, scores, matched terms and the snippet */
    ds_err err = {0};
    tq_query *q = NULL;
    cat_text_hit *hits = NULL;
    size_t n = 0;
    int64_t total = -1;
    const char *query = "chairs (seat OR stool) -lamp \"ornamental seat\" zzz*";
    CHECK(tq_parse(query, strlen(query), &q, NULL, &err) == 0);
    CHECK(cat_text_search(db, coll, q, NULL, 0, 1, &hits, &n, &total, &err) == 0);
    CHECK(n == 0 && total == 0); /* zzz* matches nothing: AND */
    cat_text_hits_free(hits, n);
    tq_free(q);
    query = "chairs (seat OR stool) -lamp \"ornamental seat\"";
    CHECK(tq_parse(query, strlen(query), &q, NULL, &err) == 0);
    CHECK(cat_text_search(db, coll, q, NULL, 0, 2, &hits, &n, &total, &err) == 0);
    CHECKF(n == 2 && total == 3, "n %zu total %lld", n, (long long)total);
    if (n == 2) {
        CHECK(strcmp(hits[0].patent_id, "D-title") == 0);
        CHECK(hits[0].score > hits[1].score && hits[1].score > 0);
        CHECKF(hits[0].n_matched == 3 && strcmp(hits[0].matched[0], "chairs") == 0 &&
                   strcmp(hits[0].matched[1], "seat") == 0 &&
                   strcmp(hits[0].matched[2], "ornamental seat") == 0,
               "matched %zu: %s", hits[0].n_matched,
               hits[0].n_matched ? hits[0].matched[0] : "");
        /* FTS5 picks the column with the most matches (here the claim)
         * and marks a phrase as one span */
        CHECKF(hits[0].snippet &&
                   strcmp(hits[0].snippet,
                          "An " CAT_MARK_START "ornamental seat" CAT_MARK_END ".") == 0,
               "snippet %s", hits[0].snippet ? hits[0].snippet : "");
    }
    cat_text_hits_free(hits, n);
    tq_free(q);
    cat_close(db);

    /* The weights decide: "chair" in a long title outranks it as the whole
     * of a one-word claim, which plain bm25 (no weights) ranks first. */
    db = text_catalog("fts_weights", &coll, NULL);
    put_patent(db, coll, "D-long-title",
               "Chair with armrests, wheels and a tilting back for an office", "A seat.", "Zeta", "06-01", NULL);
    put_patent(db, coll, "D-short-claim", "Seat", "Chair.", "Zeta", "06-01", NULL);
    search_ids(db, coll, "chair", NULL, 0, 10, got, sizeof got);
    CHECKF(strcmp(got, "D-long-title,D-short-claim") == 0, "%s", got);
    cat_close(db);
}

/* A page of a query with a prefix gets its snippets and matched terms from
 * one statement (text.c, details_sql) instead of one lookup a hit: each hit
 * must be what the search of that hit alone (offset i, limit 1: one
 * lookup) gives, field for field. */
static void test_prefix_page_details_as_one_by_one(void)
{
    int64_t coll = 0;
    cat_db *db = text_catalog("fts_prefix_page", &coll, NULL);
    static const char *const titles[] = {
        "Chair", "Chaise longue", "Office chair", "Stool", "Chairs, stackable",
        "Lamp", "Chain link", "Chandelier", "Armchair", "Chair with lamp"};
    static const char *const claims[] = {
        "An ornamental chair.", "A chaise for a garden.", "A swivel chair on a base.",
        "A stool, not a chair.", "Chairs that stack.", "A lamp for a chair side table.",
        "A chain for a chair.", "A chandelier.", "An armchair, chairs of a set.",
        "A reading chair and its lamp."};
    char id[32];
    for (int i = 0; i < 10; i++) {
        snprintf(id, sizeof id, "D%02d", i);
        put_patent(db, coll, id, titles[i], claims[i], i % 2 ? "Chalmers Ltd" : "Zeta",
                   "06-01", NULL);
    }
    static const char *const queries[] = {"chai*", "cha* -lamp", "\"office chair\" OR chai*",
                                          "cha* ornamental OR cha* chairs", "title:cha*"};
    for (size_t k = 0; k < sizeof queries / sizeof queries[0]; k++) {
        ds_err err = {0};
        tq_query *q = NULL;
        cat_text_hit *page = NULL, *one = NULL;
        size_t n = 0, n1 = 0;
        CHECK(tq_parse(queries[k], strlen(queries[k]), &q, NULL, &err) == 0);
        CHECKF(cat_text_search(db, coll, q, NULL, 0, 10, &page, &n, NULL, &err) == 0, "%s",
               err.msg);
        CHECKF(n >= 2, "%s: %zu hits", queries[k], n);
        for (size_t i = 0; i < n; i++) {
            CHECK(cat_text_search(db, coll, q, NULL, i, 1, &one, &n1, NULL, &err) == 0);
            CHECK(n1 == 1);
            if (n1 != 1)
                continue;
            CHECKF(strcmp(page[i].patent_id, one[0].patent_id) == 0 &&
                       page[i].score == one[0].score,
                   "%s #%zu: %s against %s", queries[k], i, page[i].patent_id,
                   one[0].patent_id);
            CHECKF(page[i].snippet && one[0].snippet &&
                       strcmp(page[i].snippet, one[0].snippet) == 0,
                   "%s #%zu snippet: %s against %s", queries[k], i,
                   page[i].snippet ? page[i].snippet : "(none)",
                   one[0].snippet ? one[0].snippet : "(none)");
            int same = page[i].n_matched == one[0].n_matched && page[i].n_matched > 0;
            for (size_t m = 0; same && m < page[i].n_matched; m++)
                same = strcmp(page[i].matched[m], one[0].matched[m]) == 0;
            CHECKF(same, "%s #%zu: %zu matched terms against %zu", queries[k], i,
                   page[i].n_matched, one[0].n_matched);
            cat_text_hits_free(one, n1);
        }
        cat_text_hits_free(page, n);
        tq_free(q);
    }
    cat_close(db);
}

/* The decision of catalog.h: the Locarno headings are not searched. A
 * stool in class 06-01 ("Chairs") is not found by "chairs", and is by
 * loc:06-01. */
static void test_locarno_headings_not_searched(void)
{
    int64_t coll = 0;
    cat_db *db = text_catalog("fts_locarno", &coll, NULL);
    put_patent(db, coll, "D-stool", "Stool", "The ornamental design for a stool.", "Zeta",
               "06-01", NULL);
    put_patent(db, coll, "D-chair", "Chair", "The ornamental design for a chair.", "Zeta",
               "06-01", NULL);
    char got[256];
    search_ids(db, coll, "chairs", NULL, 0, 10, got, sizeof got);
    CHECKF(strcmp(got, "D-chair") == 0, "%s", got);
    search_ids(db, coll, "loc:06-01", NULL, 0, 10, got, sizeof got);
    CHECKF(strcmp(got, "D-chair,D-stool") == 0 || strcmp(got, "D-stool,D-chair") == 0, "%s",
           got);
    search_ids(db, coll, "seats", NULL, 0, 10, got, sizeof got);
    CHECKF(strcmp(got, "") == 0, "%s", got);
    cat_close(db);
}

/* Hostile input through the whole path: a clear refusal or results, never
 * an SQLite error. */
static void test_hostile_queries_never_reach_sqlite_as_syntax(void)
{
    int64_t coll = 0;
    cat_db *db = text_catalog("fts_hostile", &coll, NULL);
    put_patent(db, coll, "D1", "Office chair", "A chair.", "Acme", "06-01", NULL);
    static const char *const queries[] = {
        "\"", "*", "NEAR(", "NEAR(chair lamp, 2)", "-", "{title}: chair", "title : chair",
        "chair:", "\"chair\" AND", "chair\" OR \"x", "^chair", "chair + lamp", "a\"\"b\"",
        "title:\"\"", "loc:\"\"", "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d", "\xf0\x9f\xaa\x91 chair",
        "chair NOT NOT lamp", "(((chair)))", "chair )(", "NOT", "AND", "OR", "title:(", "'",
        "chair'; DROP TABLE patents; --", "rank:1", "chair*lamp", "\"chair\"*", "-(chair)",
    };
    for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
        char got[2048];
        search_ids(db, coll, queries[i], NULL, 0, 10, got, sizeof got);
        CHECKF(!strstr(got, "catalog:") && !strstr(got, "fts5") && !strstr(got, "syntax"),
               "%s -> %s", queries[i], got);
        CHECKF(strncmp(got, "ERROR", 5) != 0 || strstr(got, "query:"), "%s -> %s", queries[i],
               got);
    }
    cat_close(db);
}

const ds_test text_tests[] = {
    {"query: what each construct compiles to", test_compile_shapes},
    {"query: refusals name the problem and its place", test_refusals},
    {"query: limits, NUL, right-to-left and emoji", test_limits_nul_and_scripts},
    {"query: meanings checked on a real FTS5 table", test_semantics_on_fts5},
    {"terms: the same as SQLite FTS5's tokenizer, word by word", test_terms_match_sqlite},
    {"terms: the Porter stemmer on the paper's examples", test_porter_examples},
    {"terms: a patent's terms for Milvus", test_patent_terms},
    {"terms: Milvus legs find what FTS5 finds", test_legs_agree_with_fts5},
    {"terms: legs, residual checks and the quoted Milvus expression",
     test_legs_shapes_and_milvus_expr},
    {"catalog: every write path keeps the index in step", test_index_follows_writes},
    {"catalog: an existing catalog gets its index once, and says so",
     test_migration_builds_index},
    {"catalog: BM25 field weights, filters before ranking, paging, matches, snippet",
     test_ranking_filters_paging},
    {"catalog: a prefix query's page gets the details one lookup a hit would",
     test_prefix_page_details_as_one_by_one},
    {"catalog: the Locarno headings are not searched (decision)",
     test_locarno_headings_not_searched},
    {"catalog: hostile queries give results or a query error, never SQLite's",
     test_hostile_queries_never_reach_sqlite_as_syntax},
    {0},
};
