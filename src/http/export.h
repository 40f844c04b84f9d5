/* export.h - search results as CSV, for spreadsheets. */
#ifndef DS_HTTP_EXPORT_H
#define DS_HTTP_EXPORT_H

#include <jansson.h>
#include <stddef.h>

/* One row per image hit (grouped: per matching image of each patent, with
 * the patent's score and rank), after a header row. RFC 4180 quoting; a
 * cell that a spreadsheet would run as a formula (= + - @ first) is
 * prefixed with a quote. rank counts from offset + 1. A new malloc'ed
 * string of *len bytes, or NULL on out of memory. */
/* with_collection (several collections searched): a last column names each
 * row's collection. */
char *api_results_csv(json_t *results, int grouped, int offset, int with_collection,
                      size_t *len);

#endif
