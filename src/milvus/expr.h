/* expr.h - a search filter, compiled for Milvus.
 *
 * A filter is a description (catalog.h's cat_filter: fields, date ranges,
 * id lists), never code. The embedded index turns it into an id list
 * through SQLite; Milvus gets a boolean expression built here from the
 * data, never by pasting text:
 *
 *   - every string value is written as a double-quoted literal with '\' and
 *     '"' escaped, and must be valid UTF-8 without control characters
 *     (DS_EINVAL otherwise);
 *   - Locarno classes must look like one ("12" or "12-08") and dates like a
 *     date ("2014-03-18", then the seed's YYYYMMDD integers); ids are printed
 *     integers, after the primary key's name when it is a field name
 *     (letters, digits, '_'; DS_EINVAL otherwise); nothing else reaches the
 *     expression.
 *
 * What Milvus cannot express is left for the caller to apply to the rows it
 * gets back (mv_residual_allows): Milvus 2.3 matches strings only exactly or
 * by prefix, so the case-insensitive substring filters (applicant,
 * assignee, inventor) are checked on the returned fields, and the search
 * over-fetches until it has enough rows that pass.
 *
 * Matching the embedded catalog: applicant_country compares without case
 * (every spelling of a short value listed in "in [...]", a longer one
 * checked on the rows), and a date's upper bound excludes the images
 * without that date (stored as 0).
 */
#ifndef DS_MILVUS_EXPR_H
#define DS_MILVUS_EXPR_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/str.h"
#include "catalog/catalog.h"

/* The expression for f (may be NULL) and, when ids != NULL, "id in [...]"
 * (pk: the primary key's name), ANDed; *out is malloc'ed ("" for no
 * filter; caller frees). *residual is set when part of f must be checked on
 * the rows (mv_residual_allows). */
int mv_expr_compile(const cat_filter *f, const char *pk, const int64_t *ids, size_t n_ids,
                    char **out, int *residual, ds_err *err);

/* Whether a returned row (its fields by the seed's names) passes the parts
 * of f that Milvus could not apply. 1 keeps it. */
int mv_residual_allows(const cat_filter *f, json_t *row);

/* Append s as a Milvus string literal ("..." with escapes) to buf. Returns
 * 0, or -1 with DS_EINVAL for a value that is not valid UTF-8 or holds a
 * control character. Exposed for the tests and the fuzz target. */
typedef ds_buf mv_buf;
int mv_quote(mv_buf *b, const char *s, ds_err *err);

#endif
