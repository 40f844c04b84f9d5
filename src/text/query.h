/* query.h - the query language of search by words: what a user types,
 * parsed into a tree (tq_parse), compiled to an SQLite FTS5 MATCH
 * expression (tq_to_fts5) or to the terms a Milvus row must and must not
 * contain (terms.h).
 *
 * The language (what docs/api.md tells users):
 *   chair lamp            every word must match (in any field)
 *   "office chair"        a phrase: these words next to each other, in order
 *   lamp*                 a prefix: lamp, lamps, lampshade ...
 *   chair OR stool        either (OR in capitals; lower-case "or" is a word)
 *   chair AND stool       the same as "chair stool" (AND in capitals)
 *   -folding, NOT folding, -"rocking chair", -(a OR b)
 *                         exclude what matches
 *   (chair OR stool) -folding
 *                         parentheses group, at most TQ_MAX_DEPTH deep
 *   title:chair  claim:"swivel base"  applicant:acme  assignee:acme
 *   inventor:smith  patent:D0701016 (or id:)  loc:06-01  loc:06
 *                         the word, phrase or group after the colon must
 *                         match in that field; a group takes the field of
 *                         its field prefix, and may not name another one.
 *                         loc: matches a Locarno class ("06-01") or all of
 *                         a class ("06"), from the start of the field.
 * Precedence: - and NOT bind to what follows; juxtaposition and AND bind
 * tighter than OR ("a b OR c" is "(a b) OR c").
 * Words are matched as FTS5's tokenizer sees them (text.h): case and
 * diacritics do not matter, English stemming makes "chairs" find "chair",
 * and punctuation inside a word makes it a phrase ("t-shirt" is "t shirt").
 * A word or phrase with no letter or digit ("&", an emoji) says nothing
 * and is left out.
 *
 * Refused, with a message naming the problem and its place (the API
 * answers 400 with it; *err_at is the 0-based character position): an
 * empty query; more than TQ_MAX_BYTES bytes or TQ_MAX_TERMS words; a NUL
 * byte or invalid UTF-8; an unclosed quote or parenthesis; ')' with no '(';
 * '*' not at the end of a word or phrase; '-' or NOT with nothing after it;
 * OR or AND with nothing on one side; an unknown field ("titel:"); FTS5's
 * own column filter syntax ("{title}:"); a field inside a group of another
 * field; and a query (or an OR branch, or a group) with no term that must
 * match ("-chair" alone: excluding needs something to exclude from).
 *
 * Cost: O(length of the query); the tree is malloc'ed. Thread-safe. */
#ifndef DS_TEXT_QUERY_H
#define DS_TEXT_QUERY_H

#include <stddef.h>

#include "base/error.h"

#define TQ_MAX_BYTES 2000 /* a query of more bytes is refused */
#define TQ_MAX_TERMS 64   /* words and phrases, excluded ones included */
#define TQ_MAX_DEPTH 16   /* nested parentheses */

/* The fields a term may be restricted to: the columns of the catalog's
 * full-text index, in its order (tq_field_column). */
typedef enum tq_field {
    TQ_FIELD_ANY = 0,
    TQ_FIELD_TITLE,
    TQ_FIELD_CLAIM,
    TQ_FIELD_APPLICANT,
    TQ_FIELD_ASSIGNEE,
    TQ_FIELD_INVENTOR,
    TQ_FIELD_PATENT,
    TQ_FIELD_LOC,
    TQ_FIELD_COUNT
} tq_field;

typedef enum tq_kind {
    TQ_TERM,  /* a word, or a quoted phrase */
    TQ_AND,   /* every child (the positive ones) and none of the negated */
    TQ_OR,    /* any child */
} tq_kind;

typedef struct tq_node {
    tq_kind kind;
    int negated;          /* excluded: -word, -"phrase", -(group), NOT ... */
    /* TQ_TERM only: */
    tq_field field;       /* TQ_FIELD_ANY: any field */
    int phrase;           /* typed in quotes */
    int prefix;           /* ends in '*': the last token is a prefix */
    char *text;           /* as typed, without quotes or '*' (NUL-terminated) */
    size_t pos;           /* byte offset in the query */
    /* TQ_AND, TQ_OR: */
    struct tq_node **kids;
    size_t n_kids;
} tq_node;

typedef struct tq_query {
    tq_node *root;        /* never NULL in a parsed query */
    size_t n_terms;
} tq_query;

/* Parse q[0..len). On success *out (freed with tq_free) holds the tree,
 * simplified: an AND or OR has at least two children, and each AND (and
 * the root) has a child that is not negated. On failure -1, err DS_EINVAL
 * (or DS_ETOOBIG for the limits, DS_ENOMEM) with a message for the user,
 * and *err_at (may be NULL) the character position of the problem. */
int tq_parse(const char *q, size_t len, tq_query **out, size_t *err_at, ds_err *err);

void tq_free(tq_query *q); /* NULL is a no-op */

/* The column of the full-text table a field is (NULL for TQ_FIELD_ANY),
 * and the name users type for it. */
const char *tq_field_column(tq_field f);
const char *tq_field_name(tq_field f);

/* Compile a parsed query to an FTS5 MATCH expression over the columns of
 * tq_field_column, malloc'ed into *out (caller frees). Every term is an
 * FTS5 string ("..." with '"' doubled), so no user text is ever read as
 * FTS5 syntax; groups are parenthesised. O(size of the tree). */
int tq_to_fts5(const tq_query *q, char **out, ds_err *err);

/* The terms of q in the order tq_to_fts5 writes them, which is the order
 * of FTS5's phrase numbers (for telling which terms a row matched): up to
 * max into out (the query's own nodes), with positive[i] 1 when term i
 * counts as found when present (not excluded, an even number of '-'s
 * above it). Returns the number of terms (q->n_terms). */
size_t tq_fts5_phrases(const tq_query *q, const tq_node **out, int *positive, size_t max);

#endif
