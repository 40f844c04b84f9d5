/* filter.h - a search filter as a description: fields, date ranges and id
 * lists, not a callback, so that every index backend can compile it its own
 * way (see index.h). */
#ifndef DS_FILTER_H
#define DS_FILTER_H

#include <stddef.h>

/* Which images may be returned by a search. A NULL (or "") field does not
 * filter; set fields are ANDed. Strings are only read. It is data, never
 * code: the embedded index gets it compiled to an id list by the catalog
 * (cat_filter_ids), Milvus as a boolean expression built by
 * milvus/expr.c, so a remote index can apply it as well as a local one. */
typedef struct ds_filter {
    /* Locarno class: "12-08" matches exactly; "12" matches "12" and every
     * "12-xx" (never "120" or "1"). */
    const char *loc_class;
    const char *pub_date_from, *pub_date_to;       /* "yyyy-mm-dd", inclusive */
    const char *filing_date_from, *filing_date_to; /* "yyyy-mm-dd", inclusive */
    const char *applicant;   /* case-insensitive substring of applicant_name */
    const char *assignee;    /* case-insensitive substring of assignee_name */
    const char *inventor;    /* case-insensitive substring of inventor_names */
    const char *applicant_country; /* exact, case-insensitive */
    const char *const *patent_ids; /* the image's patent_id is one of these */
    size_t n_patent_ids;           /* 0: no patent id filter */
} ds_filter;

/* 1 when s is a Locarno class as filters take it, "12" or "12-08", else 0:
 * any other text ("6" for class 06) would match nothing and read as an empty
 * class, so every way in (API, CLI) refuses it. */
int ds_loc_class_valid(const char *s);

/* 1 when f (may be NULL) filters nothing, else 0. */
int ds_filter_is_empty(const ds_filter *f);

#endif
