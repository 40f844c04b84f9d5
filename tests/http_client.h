/* http_client.h - the tests' HTTP client (libcurl): one request to a server
 * on 127.0.0.1, its status, headers and body (parsed as JSON when it is). */
#ifndef DS_TEST_HTTP_CLIENT_H
#define DS_TEST_HTTP_CLIENT_H

#include <curl/curl.h>
#include <jansson.h>
#include <stddef.h>

typedef struct ds_reply {
    long status;
    char *body;          /* always a C string ("" when empty) */
    size_t len;
    char headers[4096];  /* the response headers, as received */
    size_t hlen;
    json_t *json;        /* the body as JSON, or NULL */
} ds_reply;

/* Builds the multipart form of a request (curl_mime_init(c), parts...). */
typedef curl_mime *(*ds_form_fn)(CURL *c);

/* One request. form (may be NULL) is sent as multipart; otherwise raw/raw_len
 * (may be NULL) with content_type (may be NULL). header: one extra header
 * line or NULL. A transport failure fails the running test. Free the reply
 * with ds_reply_free. */
ds_reply ds_http(int port, const char *method, const char *path, ds_form_fn form,
                 const char *content_type, const char *raw, size_t raw_len, const char *header);
void ds_reply_free(ds_reply *r);

/* The API's envelope: {"code", "message", "data": {... "results": [...]}}. */
static inline json_t *ds_reply_data(const ds_reply *r) { return json_object_get(r->json, "data"); }
static inline json_t *ds_reply_results(const ds_reply *r)
{
    return json_object_get(ds_reply_data(r), "results");
}

/* libcurl write callback appending to a ds_reply's body (for tests that
 * drive curl themselves). */
size_t ds_reply_on_body(char *p, size_t size, size_t n, void *reply);

#endif
