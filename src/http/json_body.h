/* json_body.h - the one way a route reads a JSON object body (see json_body.c).
 *
 * A body is a JSON object whose every key the route names, each of the type
 * it names. A misspelt key ({"paht": "bulk"}) or a value of another type
 * ({"path": 5}) is the client's mistake, answered 400 naming the key and
 * the keys the route takes: taken as absent, it quietly did something else
 * (imported the whole first import root). Routes that also take the same
 * names from the query string have those names checked the same way, and
 * a name given twice (twice in the query string, or in both) is 400 too,
 * as a duplicate key in the JSON is.
 */
#ifndef DS_HTTP_JSON_BODY_H
#define DS_HTTP_JSON_BODY_H

#include <jansson.h>
#include <stddef.h>

#include "http/form.h"

typedef enum {
    HTTP_JSON_STRING,            /* a JSON string */
    HTTP_JSON_INTEGER,           /* a JSON integer (in the query string: decimal digits) */
} http_json_type;

typedef struct http_json_key {
    const char *name;
    http_json_type type;
} http_json_key;

/* Read body[0..len) (len 0: no body, *out NULL) as a JSON object of the
 * keys keys[0..n), and check that query (may be NULL) names no other
 * parameter. Returns 0 with *out (a new reference, or NULL), or -1 with
 * the 400's message in why. */
int http_json_body(const void *body, size_t len, const http_params *query,
                   const http_json_key *keys, size_t n, json_t **out, char *why, size_t wn);

/* The JSON Schema of such a body, for the OpenAPI document: an object of
 * these keys and types, no other (additionalProperties false). */
json_t *http_json_schema(const http_json_key *keys, size_t n);

#endif
