/* test_text.c - search by words: the query language (src/text/query.h),
 * its FTS5 compiler, the tokenizer and stemmer (src/text/text.h) against
 * SQLite's own, the Milvus terms (src/text/terms.h) and the catalog's
 * full-text index, on real SQLite files under ds_test_tmpdir. */
#include "../suites.h"

#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "text/query.h"
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

const ds_test text_tests[] = {
    {"query: what each construct compiles to", test_compile_shapes},
    {"query: refusals name the problem and its place", test_refusals},
    {"query: limits, NUL, right-to-left and emoji", test_limits_nul_and_scripts},
    {"query: meanings checked on a real FTS5 table", test_semantics_on_fts5},
    {0},
};
