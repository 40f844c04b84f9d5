/* form.h - parse what HTTP clients send: query strings and multipart/form-data
 * bodies. Pure functions over buffers, no I/O, so that they are easy to fuzz
 * (fuzz/form_fuzzer.c) and to test.
 *
 * Both parsers borrow nothing after they return: every string and part body
 * they produce is owned by the result and freed with its *_free function.
 * Thread-safe (no global state).
 */
#ifndef DS_HTTP_FORM_H
#define DS_HTTP_FORM_H

#include <stddef.h>

#include "base/error.h"

/* One name=value pair, percent-decoded ('+' is a space). */
typedef struct http_param {
    char *name;
    char *value;
} http_param;

typedef struct http_params {
    http_param *items;
    size_t count;
} http_params;

/* Parse "a=1&b=x%20y" (without the '?'). At most max_params pairs, else
 * DS_ETOOBIG. A malformed escape ("%zz") is DS_EFORMAT. Decoded NUL bytes
 * are refused (DS_EFORMAT): no value may hide a C string terminator.
 * Returns 0, or -1 with err; on success free with http_params_free. */
int http_parse_query(const char *s, size_t len, size_t max_params, http_params *out, ds_err *err);
void http_params_free(http_params *p);

/* The value of the first parameter called name, or NULL. */
const char *http_params_get(const http_params *p, const char *name);

/* One part of a multipart/form-data body. */
typedef struct http_part {
    char *name;         /* form field name (Content-Disposition name=) */
    char *filename;     /* the client's file name, or NULL; never trusted as a path */
    char *content_type; /* the part's Content-Type, or NULL */
    unsigned char *data;
    size_t len;
} http_part;

typedef struct http_form {
    http_part *parts;
    size_t count;
} http_form;

/* Take the boundary out of a Content-Type header value
 * ("multipart/form-data; boundary=xyz", quoted or not) into out (size n).
 * Returns 0, or -1 with err (not multipart, no boundary, boundary > 70). */
int http_multipart_boundary(const char *content_type, char *out, size_t n, ds_err *err);

/* Parse a whole multipart body (RFC 7578). At most max_parts parts, else
 * DS_ETOOBIG. A body without the closing delimiter is DS_EFORMAT
 * ("truncated"). Part headers are limited to 8 KiB each.
 * Returns 0, or -1 with err; on success free with http_form_free. */
int http_parse_multipart(const unsigned char *body, size_t len, const char *boundary,
                         size_t max_parts, http_form *out, ds_err *err);
void http_form_free(http_form *f);

/* The first part called name, or NULL. */
const http_part *http_form_get(const http_form *f, const char *name);

#endif
