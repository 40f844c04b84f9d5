/* server.h - the HTTP server: libmicrohttpd with a thread pool, a route
 * table, the seed's JSON envelope, limits, an API key, CORS, an access log
 * and request metrics.
 *
 * One thread per connection (up to 512 connections, 64 from one address).
 * The application owns the route table: one array of http_route, read in a
 * minute (src/cmd/serve.c). Each handler has one signature, gets a parsed
 * request (path, query, headers, whole body) and fills a response. The server
 * does everything else: body size limits (413), a deadline for the whole
 * request, headers and body, to arrive (past it the connection is shut
 * down, counted as 408: no slow-loris client holds a thread for long), the
 * API key on write routes (401), unknown paths (404) and methods (405),
 * CORS, errors as {"code": 1, "message": ...}, a handler's failure as the
 * seed's {"code": 500, "message": "Internal server error"}.
 *
 * Thread safety: handlers run concurrently, one thread per connection.
 */
#ifndef DS_HTTP_SERVER_H
#define DS_HTTP_SERVER_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "base/error.h"
#include "http/form.h"

struct MHD_Connection;

typedef struct http_request {
    const char *method;
    const char *path;      /* percent-decoded, without the query */
    const char *tail;      /* for a prefix route: what follows the prefix */
    http_params query;
    const unsigned char *body;
    size_t body_len;
    struct MHD_Connection *conn;
} http_request;

/* A request header, or NULL. Valid while the request is. */
const char *http_header(const http_request *r, const char *name);

#define HTTP_MAX_HEADERS 8

typedef struct http_response {
    int status;
    char *body;            /* owned; freed by the server */
    size_t len;
    const char *content_type;
    struct {
        char name[40];
        char value[200];
    } headers[HTTP_MAX_HEADERS];
    int n_headers;
    /* A streamed body instead (Server-Sent Events): when stream is set the
     * server calls it for each chunk, on the connection's own thread, so it
     * may block until it has something to send. It writes at most max bytes
     * into buf and returns how many (> 0), 0 at the end, -1 on error; then
     * stream_free(stream_ctx) is called once. */
    long (*stream)(void *ctx, char *buf, size_t max);
    void *stream_ctx;
    void (*stream_free)(void *ctx);
} http_response;

/* JSON body (doc is consumed). */
void http_respond_json(http_response *r, int status, json_t *doc);
/* The seed's success envelope {"code": 0, "message": "success", "data": data}
 * with HTTP 200 (data is consumed). */
void http_respond_ok(http_response *r, json_t *data);
/* An error in the envelope {"code": 1, "message": ..., "status": status}. */
void http_respond_error(http_response *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Raw bytes (data is taken over and freed by the server). */
void http_respond_bytes(http_response *r, int status, const char *content_type, void *data,
                        size_t len);
/* Add a response header (silently ignored past HTTP_MAX_HEADERS). */
void http_set_header(http_response *r, const char *name, const char *value);

/* A handler returns 0 when it filled the response (errors included), -1 on an
 * unexpected failure (answered 500 by the server). */
typedef int (*http_handler)(void *app, const http_request *req, http_response *resp);

enum {
    HTTP_PREFIX = 1, /* path ends in '/' and matches everything below it */
    HTTP_WRITE = 2,  /* needs the API key when one is configured */
};

typedef struct http_route {
    const char *method;
    const char *path;
    http_handler handler;
    unsigned flags;
    size_t max_body;       /* 0: no body accepted */
    const char *summary;   /* one line, for the OpenAPI document */
} http_route;

typedef struct http_config {
    const char *host;      /* default 127.0.0.1 */
    int port;              /* 0: any free port (see http_port) */
    int timeout_s;         /* idle connection timeout, default 30 */
    int request_ms;        /* a request (headers and body) must arrive whole within this
                            * of its connection being ready for it; default 60000 */
    int max_connections;   /* open connections (one thread each); default 512 */
    int max_per_ip;        /* of them from one client address; default 64, < 0: no limit */
    const char *api_key;   /* NULL: write routes are open */
    const char *cors;      /* allowed origins, comma-separated, or "*"; NULL: none */
    FILE *access_log;      /* JSON lines; NULL: none */
} http_config;

typedef struct http_server http_server;

/* Start serving routes[0..n) (they and app must outlive the server).
 * Returns 0, or -1 with err (e.g. the port is taken). */
int http_start(const http_config *cfg, const http_route *routes, size_t n, void *app,
               http_server **out, ds_err *err);

/* Stop accepting, let in-flight requests finish, free everything. NULL is a
 * harmless no-op. */
void http_stop(http_server *s);

/* The port actually bound (useful with port 0). */
int http_port(const http_server *s);

/* Request counts by route and status, and latency histograms, in the
 * Prometheus text format. Caller frees. */
char *http_metrics_text(http_server *s);

#endif
