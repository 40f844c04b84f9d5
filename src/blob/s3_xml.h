/* s3_xml.h - reading the XML an S3 server answers with: a ListObjectsV2
 * page and an error document. Internal to the S3 store (and its fuzz
 * target); callers use blob.h.
 *
 * The bytes come from the network, so they are parsed as hostile: libxml2
 * with no network, no entity substitution and its default size and depth
 * limits, and a document carrying a DTD is refused outright (S3 never sends
 * one; an internal subset is how entity bombs arrive).
 */
#ifndef DS_S3_XML_H
#define DS_S3_XML_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

typedef struct s3_object {
    char *key;          /* the full object key, as the server sent it */
    uint64_t size;
    int64_t mtime;      /* LastModified, Unix seconds (0 when unreadable) */
} s3_object;

typedef struct s3_list_page {
    s3_object *objs;
    size_t n;
    int truncated;      /* IsTruncated: more pages follow */
    char *next_token;   /* NextContinuationToken, or NULL */
} s3_list_page;

/* Parse one ListBucketResult. On success *out owns its strings (free with
 * s3_list_page_free). DS_EFORMAT for anything else than a well-formed
 * ListBucketResult, DS_ETOOBIG past 16 MiB or 100000 entries. */
int s3_parse_list(const char *xml, size_t len, s3_list_page *out, ds_err *err);
void s3_list_page_free(s3_list_page *p);

/* The <Code> and <Message> of an S3 <Error> document, into code and msg
 * (empty strings when the body is not one). Never fails. */
void s3_parse_error(const char *xml, size_t len, char *code, size_t code_n, char *msg,
                    size_t msg_n);

/* "2026-12-05T22:25:47Z" or "...47.123Z" -> Unix seconds; 0 when malformed. */
int64_t s3_parse_iso8601(const char *s);

#endif
