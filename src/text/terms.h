/* terms.h - search by words on Milvus 2.3, which has no full-text search:
 * each row keeps the normalised terms of its patent's text in one
 * ARRAY<VARCHAR> field, and a query becomes array_contains_all over it.
 *
 * Why one array, with each term twice ("chair" and "title:chair"):
 * array_contains_all / array_contains_any take one field, so a query's
 * words (in any field, or in a named one) are then one
 * array_contains_all(terms, [...]) per leg, whatever fields they name; and
 * Milvus 2.3 sets an ARRAY field's max_capacity when the collection is
 * made, which one field sized for the whole patent keeps simple. A design
 * patent's title, one-sentence claim and names make a few dozen distinct
 * terms, so doubling them stays far below TX_ROW_TERMS_MAX.
 *
 * Terms: the tokens of tx_tokenize with stemming (the same as FTS5's), as
 * they are ("chair": in any field) and prefixed by the field's name
 * ("title:chair", "claim:", "applicant:", "assignee:", "inventor:",
 * "patent:"). The Locarno class is kept whole, as "loc:06-01" and its
 * class "loc:06", so loc: is an exact match as in the catalog. Duplicates
 * are removed; the array is sorted (byte order).
 *
 * A query (query.h) becomes legs, OR'd: each leg is the terms a row must
 * all contain and sets of terms it must not contain all of. Where that is
 * wider than the query means, the leg says residual and dinoseek must
 * check the rows Milvus returns against their text (e.g. by running the
 * query on an in-memory FTS5 table of the candidates, which ranks them by
 * BM25 at the same time): a phrase (its words must also be adjacent), a
 * prefix (lamp*: no array operation can match a prefix, so it constrains
 * nothing; the leg's has_prefix says so), an excluded phrase or prefix.
 *
 * Cost: linear in the text or the tree; everything returned is malloc'ed.
 * Thread-safe. */
#ifndef DS_TEXT_TERMS_H
#define DS_TEXT_TERMS_H

#include <stddef.h>

#include "base/error.h"
#include "text/query.h"

#define TX_ROW_TERMS_MAX 1024 /* a row keeps at most this many (max_capacity) */
#define TX_TERM_BYTES_MAX 96  /* longer terms are not kept (VARCHAR max_length) */
#define TX_LEGS_MAX 16        /* a query needing more legs is refused */

typedef struct tx_termset {
    char **terms;
    size_t n;
} tx_termset;

/* A patent's normalised terms (see above) from its fields, indexed by
 * tq_field (text[TQ_FIELD_TITLE] the title, ...; text[TQ_FIELD_ANY] is
 * ignored; any may be NULL). *out is freed with tx_termset_clear. When the
 * text has more than TX_ROW_TERMS_MAX distinct terms, the first ones in
 * field order (title first) are kept and *truncated (may be NULL) is set. */
int tx_patent_terms(const char *const text[TQ_FIELD_COUNT], tx_termset *out, int *truncated,
                    ds_err *err);

typedef struct tx_leg {
    tx_termset must;          /* array_contains_all(terms, must); n 0: any row */
    tx_termset *must_not;     /* for each: not array_contains_all(terms, it) */
    size_t n_must_not;
    int residual;             /* rows must be checked against the query */
    int has_prefix;           /* a prefix term left out of must */
} tx_leg;

typedef struct tx_legs {
    tx_leg *legs;
    size_t n;
} tx_legs;

/* The legs of a parsed query (see above). DS_ETOOBIG when the query's ORs
 * inside ANDs make more than TX_LEGS_MAX legs. *out is freed with
 * tx_legs_clear. */
int tx_query_legs(const tq_query *q, tx_legs *out, ds_err *err);

/* The legs as one Milvus boolean expression over the array field `field`
 * (a name of letters, digits and '_'), malloc'ed into *out: each term a
 * string literal quoted as filters are (src/milvus/expr.h), so no user text
 * is read as Milvus syntax. "" (no filter) when a leg constrains nothing
 * (lamp* alone): every row is then a candidate for the residual check. */
int tx_legs_milvus_expr(const tx_legs *legs, const char *field, char **out, ds_err *err);

void tx_termset_clear(tx_termset *s);
void tx_legs_clear(tx_legs *l);

#endif
