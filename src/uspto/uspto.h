/* uspto.h - USPTO patent grant XML: the bibliographic fields of each design
 * patent, and the drawings it names.
 *
 * Formats read:
 *  - `us-patent-grant`, DTD versions v4.0 to v4.7 (2005 to today), one
 *    document or the weekly concatenation (`ipgYYMMDD.xml`,
 *    `ipgbYYYYMMDD.xml`: many `<?xml ...?>` documents back to back);
 *  - the 2001-2004 `PATDOC` format (ST.32, `B110`-style tags).
 * Utility, plant and reissue documents in the same file are recognised and
 * reported with their type, so that callers can skip and count them.
 *
 * Safety: libxml2 is never allowed to load a DTD, an external entity or
 * anything over the network; a document that declares entities of its own
 * (billion laughs, XXE) is refused before libxml2 sees it, except unparsed
 * NDATA entities, which nothing expands and with which PATDOC names its
 * drawings; entity references are never expanded; depth and size are
 * bounded. A bad document is reported and the next one is read.
 *
 * Thread safety: every function may be called from several threads at once.
 */
#ifndef DS_USPTO_H
#define DS_USPTO_H

#include <jansson.h>
#include <stddef.h>

#include "base/error.h"

#define US_MAX_DOC_BYTES (64u << 20) /* one document; a weekly file may be larger */
#define US_MAX_DEPTH 200              /* element nesting of one document */

typedef enum us_type {
    US_DESIGN = 0,
    US_UTILITY,
    US_PLANT,
    US_REISSUE,
    US_OTHER, /* SIR, defensive publication, or a kind we do not know */
} us_type;

/* One grant. Strings are malloc'ed, NUL-terminated UTF-8, or NULL when the
 * document does not have the field. Field names are the seed system's. */
typedef struct us_grant {
    us_type type;
    char *format;            /* e.g. "us-patent-grant v4.4", "PATDOC v2.5" */
    char *patent_id;         /* e.g. "D0701016" (the doc-number as printed) */
    char *kind;              /* e.g. "S1" */
    char *title;
    char *loc_class;         /* Locarno "NN-NN", normalised from "0101" */
    char *loc_edition;       /* e.g. "10" */
    char *pub_date;          /* ISO "yyyy-mm-dd" */
    char *filing_date;       /* ISO "yyyy-mm-dd" */
    int grant_term;          /* years; 0 unknown */
    char *applicant_name;    /* the first applicant: an organisation, or "First Last" */
    char *applicant_country; /* e.g. "US" */
    char *inventor_names;    /* "First Last, First Last" */
    char *assignee_name;     /* the first assignee */
    char *claim_text;        /* the claim(s), whitespace collapsed */
    char **figures;          /* the files of <drawings>, in order (e.g.
                                "USD0701016-20140318-D00001.TIF") */
    int n_figures;           /* = image_count */
} us_grant;

/* Free what g holds and zero it; NULL, or twice, is harmless. */
void us_grant_clear(us_grant *g);

/* Parse one XML document (one `<?xml` ... root element). Returns 0, or -1
 * with err (DS_EFORMAT malformed or unsafe, DS_EUNSUPPORTED another root).
 * Also DS_ETOOBIG past US_MAX_DOC_BYTES, DS_EUNSUPPORTED for an encoding
 * other than UTF-8, ASCII or ISO-8859-1 and for 2001 PATDOC SGML that is
 * not XML, DS_ENOMEM. *out is overwritten: the grant on success (free it
 * with us_grant_clear), empty on failure. Errors name the line. Cost: one
 * pass over len bytes and the document's tree in memory while it runs. */
int us_parse_doc(const char *xml, size_t len, us_grant *out, ds_err *err);

/* What us_parse_buffer reports for each document it finds. */
typedef struct us_doc {
    int index;               /* 0-based position in the buffer */
    size_t offset;           /* byte offset of its `<?xml` in the buffer */
    const us_grant *grant;   /* NULL when the document failed */
    const ds_err *error;     /* why, when grant is NULL */
    int total;               /* documents in the buffer, good and bad */
    const char *root;        /* the root element's name as its start tag
                                reads, even when the document then fails
                                ("us-patent-grant", "PATDOC", "sequence-cwu"
                                for a sequence listing that weekly files
                                carry next to its patent, ...); NULL when not
                                seen; valid during the call */
} us_doc;

/* Whether a document that failed is one that is not a grant at all, which
 * readers pass over and count rather than fail: a sequence listing that a
 * weekly file carries next to its patent (root "sequence-cwu", or ST.26's
 * "ST26SequenceListing"), even one too big to parse. A grant that cannot be
 * read (a 2001 SGML PATDOC, an encoding not supported, one too big) and a
 * document of a root nobody knows are failures. */
int us_doc_passed_over(const us_doc *d);

/* Called for every document; return non-zero to stop. */
typedef int (*us_doc_fn)(void *ctx, const us_doc *d);

/* Split a buffer holding one or many concatenated documents (CRLF or LF)
 * and parse each in turn, calling fn. A bad document is reported to fn and
 * the next is read. Returns the number of documents, or -1 with err when
 * the buffer holds no XML at all or fn asked to stop.
 * A document starts at each `<?xml` that begins a line (a UTF-8 BOM before
 * it goes with it); text before the first one is a document of its own
 * when it is not blank (so never silently dropped), and a buffer without
 * any declaration is one document when it starts with '<'. buf needs no
 * NUL after it (a mapped file); what fn receives lives during the call. */
int us_parse_buffer(const char *buf, size_t len, us_doc_fn fn, void *ctx, ds_err *err);

/* The seed's field names (patent_id, title, loc_class, loc_edition,
 * pub_date, filing_date, grant_term, applicant_name, applicant_country,
 * inventor_names, assignee_name, claim_text, image_count) plus "kind",
 * "type" ("design", "utility", ...), "figures" (array) and "source" (when
 * not NULL). Absent fields are JSON null. NULL on out of memory. */
json_t *us_grant_json(const us_grant *g, const char *source);

const char *us_type_name(us_type t);

#endif
