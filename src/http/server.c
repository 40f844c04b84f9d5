/* server.c - libmicrohttpd underneath the route table (see server.h). */
#include "http/server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "base/secret.h"
#include "base/str.h"

#define MAX_QUERY_PARAMS 64
#define MAX_STATUSES 16
static const double latency_buckets_ms[] = {5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000};
#define N_BUCKETS (sizeof latency_buckets_ms / sizeof latency_buckets_ms[0])

/* Counters of one route (the last slot counts requests that matched none). */
typedef struct route_metrics {
    struct {
        int status;
        unsigned long count;
    } by_status[MAX_STATUSES];
    unsigned long buckets[N_BUCKETS + 1];
    double sum_ms;
    unsigned long count;
} route_metrics;

/* One open connection, as the request deadline sees it (see watchdog()). */
typedef struct conn_state {
    struct conn_state *prev, *next;
    int fd;
    struct timespec ready;    /* waiting for a request since: opened, or last answer sent */
    int busy;                 /* a request has arrived whole and is being answered */
    int cut;                  /* the watchdog shut it down */
    const http_route *route;  /* of the request arriving, once its headers are in */
} conn_state;

struct http_server {
    struct MHD_Daemon *daemon;
    const http_route *routes;
    size_t n_routes;
    void *app;
    http_config cfg;
    pthread_mutex_t lock; /* guards metrics and the access log */
    route_metrics *metrics; /* [n_routes + 1] */
    /* Open connections, for the request deadline; conns_lock is taken
     * before lock, never after. */
    pthread_mutex_t conns_lock;
    pthread_cond_t wake;
    conn_state *conns;
    int stopping;
    int watchdog_running;
    pthread_t watchdog;
};

/* Per request, from the URI callback to the completion callback. */
typedef struct request_state {
    char *uri;            /* raw, with the query */
    const http_route *route;
    unsigned char *body;
    size_t len, cap;
    int started;          /* the headers-only first call has been seen */
    int too_large;
    int answered;         /* a response was queued */
    struct timespec start;
} request_state;

static double ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

/* ---- responses ---------------------------------------------------------- */

/* Replace every byte that is not part of a valid UTF-8 sequence with '?', in
 * place: JSON strings must be UTF-8, and messages echo what clients sent (or
 * were cut by snprintf in the middle of a character). */
static void utf8_clean(char *s)
{
    unsigned char *p = (unsigned char *)s;
    while (*p) {
        int n = *p < 0x80 ? 0 : (*p & 0xE0) == 0xC0 && *p >= 0xC2 ? 1 : (*p & 0xF0) == 0xE0 ? 2
                : (*p & 0xF8) == 0xF0 && *p <= 0xF4 ? 3 : -1;
        int ok = n >= 0;
        for (int i = 1; ok && i <= n; i++)
            ok = (p[i] & 0xC0) == 0x80;
        if (ok && n == 2) /* no overlong forms or surrogates */
            ok = !(p[0] == 0xE0 && p[1] < 0xA0) && !(p[0] == 0xED && p[1] >= 0xA0);
        if (ok && n == 3)
            ok = !(p[0] == 0xF0 && p[1] < 0x90) && !(p[0] == 0xF4 && p[1] >= 0x90);
        if (!ok) {
            *p++ = '?';
            continue;
        }
        p += n + 1;
    }
}

void http_respond_json(http_response *r, int status, json_t *doc)
{
    free(r->body);
    r->status = status;
    r->body = doc ? json_dumps(doc, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
    r->len = r->body ? strlen(r->body) : 0;
    r->content_type = "application/json";
    json_decref(doc);
}

void http_respond_ok(http_response *r, json_t *data)
{
    http_respond_json(r, 200, json_pack("{s:i,s:s,s:o}", "code", 0, "message", "success", "data",
                                        data ? data : json_object()));
}

void http_respond_error(http_response *r, int status, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    utf8_clean(msg);
    http_respond_json(r, status, json_pack("{s:i,s:s,s:i}", "code", 1, "message", msg, "status",
                                           status));
}

void http_respond_bytes(http_response *r, int status, const char *content_type, void *data,
                        size_t len)
{
    free(r->body);
    r->status = status;
    r->body = data;
    r->len = len;
    r->content_type = content_type;
}

void http_set_header(http_response *r, const char *name, const char *value)
{
    /* Every header is the server's own text (content types checked at
     * store time, ETags, fixed policies): one that does not fit is left
     * out whole rather than sent cut, which would be another value. */
    if (r->n_headers == HTTP_MAX_HEADERS ||
        ds_snprintf(r->headers[r->n_headers].name, sizeof r->headers[0].name, NULL, "%s", name) ||
        ds_snprintf(r->headers[r->n_headers].value, sizeof r->headers[0].value, NULL, "%s", value))
        return;
    r->n_headers++;
}

const char *http_header(const http_request *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

/* ---- metrics and the access log --------------------------------------- */

static void record(http_server *s, const http_route *route, const char *method, const char *uri,
                   int status, size_t bytes, double ms)
{
    pthread_mutex_lock(&s->lock);
    route_metrics *m = &s->metrics[route ? (size_t)(route - s->routes) : s->n_routes];
    int i = 0;
    while (i < MAX_STATUSES - 1 && m->by_status[i].status && m->by_status[i].status != status)
        i++;
    m->by_status[i].status = status;
    m->by_status[i].count++;
    size_t b = 0;
    while (b < N_BUCKETS && ms > latency_buckets_ms[b])
        b++;
    m->buckets[b]++;
    m->sum_ms += ms;
    m->count++;
    if (s->cfg.access_log) {
        char meth[16], u[2048];
        snprintf(meth, sizeof meth, "%s", method);
        snprintf(u, sizeof u, "%s", uri ? uri : "");
        utf8_clean(meth);
        utf8_clean(u);
        json_t *line = json_pack("{s:I,s:s,s:s,s:i,s:I,s:f}", "ts", (json_int_t)time(NULL),
                                 "method", meth, "uri", u, "status", status, "bytes",
                                 (json_int_t)bytes, "ms", ms);
        char *text = line ? json_dumps(line, JSON_COMPACT) : NULL;
        if (text) {
            fprintf(s->cfg.access_log, "%s\n", text);
            fflush(s->cfg.access_log);
        }
        free(text);
        json_decref(line);
    }
    pthread_mutex_unlock(&s->lock);
}

/* Append s to a growing string buffer; returns 0, or -1 out of memory. */
static int append(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int append(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(*buf ? *buf + *len : NULL, *buf ? *cap - *len : 0, fmt, ap);
        va_end(ap);
        if (n < 0)
            return -1;
        if (*buf && *len + (size_t)n < *cap) {
            *len += (size_t)n;
            return 0;
        }
        size_t cap2 = (*cap ? *cap * 2 : 4096) + (size_t)n;
        char *grown = realloc(*buf, cap2);
        if (!grown)
            return -1;
        *buf = grown;
        *cap = cap2;
    }
}

char *http_metrics_text(http_server *s)
{
    char *out = NULL;
    size_t len = 0, cap = 0;
    int rc = append(&out, &len, &cap,
                    "# HELP dinoseek_http_requests_total HTTP requests by route and status.\n"
                    "# TYPE dinoseek_http_requests_total counter\n");
    pthread_mutex_lock(&s->lock);
    for (size_t r = 0; r <= s->n_routes && rc == 0; r++) {
        const char *path = r < s->n_routes ? s->routes[r].path : "other";
        const char *method = r < s->n_routes ? s->routes[r].method : "*";
        for (int i = 0; i < MAX_STATUSES && s->metrics[r].by_status[i].status && rc == 0; i++)
            rc = append(&out, &len, &cap,
                        "dinoseek_http_requests_total{method=\"%s\",route=\"%s\",status=\"%d\"} %lu\n",
                        method, path, s->metrics[r].by_status[i].status,
                        s->metrics[r].by_status[i].count);
    }
    rc |= append(&out, &len, &cap,
                 "# HELP dinoseek_http_request_duration_seconds Time to answer, by route.\n"
                 "# TYPE dinoseek_http_request_duration_seconds histogram\n");
    for (size_t r = 0; r <= s->n_routes && rc == 0; r++) {
        const route_metrics *m = &s->metrics[r];
        const char *path = r < s->n_routes ? s->routes[r].path : "other";
        const char *method = r < s->n_routes ? s->routes[r].method : "*";
        unsigned long cum = 0;
        for (size_t b = 0; b <= N_BUCKETS && rc == 0; b++) {
            cum += m->buckets[b];
            char le[32];
            if (b < N_BUCKETS)
                snprintf(le, sizeof le, "%g", latency_buckets_ms[b] / 1000.0);
            else
                snprintf(le, sizeof le, "+Inf");
            rc = append(&out, &len, &cap,
                        "dinoseek_http_request_duration_seconds_bucket{method=\"%s\",route=\"%s\","
                        "le=\"%s\"} %lu\n", method, path, le, cum);
        }
        rc |= append(&out, &len, &cap,
                     "dinoseek_http_request_duration_seconds_sum{method=\"%s\",route=\"%s\"} %g\n"
                     "dinoseek_http_request_duration_seconds_count{method=\"%s\",route=\"%s\"} %lu\n",
                     method, path, m->sum_ms / 1000.0, method, path, m->count);
    }
    pthread_mutex_unlock(&s->lock);
    if (rc != 0) {
        free(out);
        return NULL;
    }
    return out;
}

/* ---- the request deadline ----------------------------------------------
 *
 * libmicrohttpd's own timeout (cfg.timeout_s) closes a connection that has
 * been silent that long, but a client that sends one byte of its headers (or
 * body) every few seconds is never silent, and would hold its connection and
 * thread for as long as it likes: a few hundred such clients (slowloris)
 * would fill the connection limit. So every connection is tracked from the
 * moment it is ready for a request (opened, or its last answer sent), and a
 * watchdog thread shuts down any whose request has not arrived whole within
 * cfg.request_ms. Requests being answered (searches, event streams) are
 * never cut. shutdown() rather than close(): the descriptor stays
 * libmicrohttpd's, whose thread then reads end-of-file and closes it. */

static conn_state *conn_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? info->socket_context : NULL;
}

/* Headers in (busy 0: the body may still be arriving) or whole (busy 1). */
static void conn_update(http_server *s, struct MHD_Connection *c, const http_route *route,
                        int busy)
{
    conn_state *cs = conn_of(c);
    if (!cs)
        return;
    pthread_mutex_lock(&s->conns_lock);
    cs->route = route;
    cs->busy = busy;
    pthread_mutex_unlock(&s->conns_lock);
}

static void conn_ready(http_server *s, struct MHD_Connection *c)
{
    conn_state *cs = conn_of(c);
    if (!cs)
        return;
    pthread_mutex_lock(&s->conns_lock);
    clock_gettime(CLOCK_MONOTONIC, &cs->ready);
    cs->busy = 0;
    cs->route = NULL;
    pthread_mutex_unlock(&s->conns_lock);
}

/* libmicrohttpd tells us of each connection opened and closed; it calls the
 * latter before it closes the descriptor, so a listed fd is always open. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    http_server *s = cls;
    conn_state *cs = *socket_context;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (!info || !(cs = calloc(1, sizeof *cs)))
            return; /* unguarded: the idle timeout still applies */
        cs->fd = info->connect_fd;
        clock_gettime(CLOCK_MONOTONIC, &cs->ready);
        pthread_mutex_lock(&s->conns_lock);
        cs->next = s->conns;
        if (s->conns)
            s->conns->prev = cs;
        s->conns = cs;
        pthread_mutex_unlock(&s->conns_lock);
        *socket_context = cs;
    } else if (cs) {
        pthread_mutex_lock(&s->conns_lock);
        if (cs->prev)
            cs->prev->next = cs->next;
        else
            s->conns = cs->next;
        if (cs->next)
            cs->next->prev = cs->prev;
        pthread_mutex_unlock(&s->conns_lock);
        free(cs);
        *socket_context = NULL;
    }
}

/* How often the watchdog looks: a quarter of the deadline, 20 ms to 1 s. */
static long watchdog_tick_ms(const http_server *s)
{
    long t = s->cfg.request_ms / 4;
    return t < 20 ? 20 : t > 1000 ? 1000 : t;
}

static void *watchdog(void *arg)
{
    http_server *s = arg;
    pthread_mutex_lock(&s->conns_lock);
    while (!s->stopping) {
        for (conn_state *cs = s->conns; cs; cs = cs->next) {
            double ms = ms_since(&cs->ready);
            if (cs->busy || cs->cut || ms <= (double)s->cfg.request_ms)
                continue;
            shutdown(cs->fd, SHUT_RDWR);
            cs->cut = 1;
            record(s, cs->route, cs->route ? cs->route->method : "-",
                   cs->route ? cs->route->path : "", 408, 0, ms);
        }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        long ns = until.tv_nsec + watchdog_tick_ms(s) * 1000000L;
        until.tv_sec += ns / 1000000000L;
        until.tv_nsec = ns % 1000000000L;
        pthread_cond_timedwait(&s->wake, &s->conns_lock, &until);
    }
    pthread_mutex_unlock(&s->conns_lock);
    return NULL;
}

/* ---- dispatch ---------------------------------------------------------- */

static int path_matches(const http_route *r, const char *path, const char **tail)
{
    if (r->flags & HTTP_PREFIX) {
        size_t n = strlen(r->path);
        if (strncmp(path, r->path, n) != 0 || path[n] == '\0')
            return 0;
        *tail = path + n;
        return 1;
    }
    *tail = "";
    return strcmp(path, r->path) == 0;
}

/* The route for (method, path); *path_known tells a 405 from a 404. */
static const http_route *find_route(const http_server *s, const char *method, const char *path,
                                    const char **tail, int *path_known)
{
    *path_known = 0;
    for (size_t i = 0; i < s->n_routes; i++) {
        if (!path_matches(&s->routes[i], path, tail))
            continue;
        *path_known = 1;
        if (strcmp(s->routes[i].method, method) == 0 ||
            (strcmp(method, "HEAD") == 0 && strcmp(s->routes[i].method, "GET") == 0))
            return &s->routes[i];
    }
    return NULL;
}

/* The CORS origin to echo back, or NULL when the request's is not allowed. */
static const char *cors_origin(const http_server *s, struct MHD_Connection *c)
{
    const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
    const char *allowed = s->cfg.cors;
    if (!origin || !allowed)
        return NULL;
    if (strcmp(allowed, "*") == 0)
        return "*";
    size_t n = strlen(origin);
    for (const char *p = allowed; *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && strncmp(p, origin, n) == 0)
            return origin;
        p += len + (p[len] == ',');
    }
    return NULL;
}

/* A streamed body: libmicrohttpd's reader callback over http_response's. */
typedef struct stream_state {
    long (*fn)(void *ctx, char *buf, size_t max);
    void *ctx;
    void (*free_fn)(void *ctx);
} stream_state;

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    stream_state *ss = cls;
    (void)pos;
    long n = ss->fn(ss->ctx, buf, max);
    return n > 0 ? (ssize_t)n : n == 0 ? MHD_CONTENT_READER_END_OF_STREAM
                                       : MHD_CONTENT_READER_END_WITH_ERROR;
}

static void stream_done(void *cls)
{
    stream_state *ss = cls;
    if (ss->free_fn)
        ss->free_fn(ss->ctx);
    free(ss);
}

static struct MHD_Response *make_response(http_response *resp)
{
    if (!resp->stream)
        return MHD_create_response_from_buffer(resp->len, resp->body, MHD_RESPMEM_MUST_FREE);
    stream_state *ss = malloc(sizeof *ss);
    if (!ss)
        return NULL;
    *ss = (stream_state){resp->stream, resp->stream_ctx, resp->stream_free};
    struct MHD_Response *r =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, ss, stream_done);
    if (!r)
        free(ss);
    else
        resp->stream_free = NULL; /* stream_done owns it now */
    return r;
}

static enum MHD_Result send_response(http_server *s, struct MHD_Connection *c, request_state *st,
                            const char *method, http_response *resp)
{
    struct MHD_Response *r = make_response(resp);
    if (!r) {
        free(resp->body);
        if (resp->stream_free)
            resp->stream_free(resp->stream_ctx);
        return MHD_NO;
    }
    if (resp->content_type)
        MHD_add_response_header(r, "Content-Type", resp->content_type);
    for (int i = 0; i < resp->n_headers; i++)
        MHD_add_response_header(r, resp->headers[i].name, resp->headers[i].value);
    const char *origin = cors_origin(s, c);
    if (origin) {
        MHD_add_response_header(r, "Access-Control-Allow-Origin", origin);
        MHD_add_response_header(r, "Vary", "Origin");
    }
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    enum MHD_Result rc = MHD_queue_response(c, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    record(s, st->route, method, st->uri, resp->status, resp->len, ms_since(&st->start));
    st->answered = 1;
    return rc;
}

/* A write route with an API key configured: X-API-Key or Bearer must match. */
static int authorised(const http_server *s, const http_route *route, struct MHD_Connection *c)
{
    if (!(route->flags & HTTP_WRITE) || !s->cfg.api_key)
        return 1;
    const char *key = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-API-Key");
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (!key && auth && strncasecmp(auth, "Bearer ", 7) == 0)
        key = auth + 7;
    /* Not strcmp: its time would tell a client how much of the key it got
     * right, and a length check first would tell it the key's length. */
    return ds_secret_equal(key, s->cfg.api_key);
}

/* Whether the path of the raw URI (before any '?') holds an escaped NUL.
 * libmicrohttpd decodes the path before the handlers see it, as a C
 * string, so "a.png%00.jpg" would reach them as "a.png": the name served
 * would not be the name asked for (a filter in front of the server that
 * checks the name would be fooled). The query string refuses %00 itself. */
static int path_has_nul(const char *uri)
{
    size_t n = strcspn(uri, "?");
    for (size_t i = 0; i + 2 < n; i++)
        if (uri[i] == '%' && uri[i + 1] == '0' && uri[i + 2] == '0')
            return 1;
    return 0;
}

/* The last call of a request: everything has arrived. */
static enum MHD_Result answer(http_server *s, struct MHD_Connection *c, request_state *st,
                              const char *url, const char *method)
{
    http_response resp = {0};
    const char *q = strchr(st->uri ? st->uri : "", '?');
    http_request req = {.method = method, .path = url, .conn = c, .body = st->body,
                        .body_len = st->len};
    ds_err err = {0};
    int path_known;
    st->route = find_route(s, method, url, &req.tail, &path_known);
    if (path_has_nul(st->uri ? st->uri : "")) {
        http_respond_error(&resp, 400, "the path holds a NUL byte (%%00)");
    } else if (strcmp(method, "OPTIONS") == 0 && path_known) {
        http_respond_bytes(&resp, 204, NULL, NULL, 0);
        http_set_header(&resp, "Access-Control-Allow-Methods", "GET, POST, OPTIONS");
        http_set_header(&resp, "Access-Control-Allow-Headers",
                        "Content-Type, X-API-Key, Authorization");
    } else if (!st->route) {
        http_respond_error(&resp, path_known ? 405 : 404, path_known ? "method %s not allowed on %s"
                                                                     : "no such path: %s",
                           path_known ? method : url, url);
        if (path_known) {
            char allow[64] = "OPTIONS";
            const char *tail;
            for (size_t i = 0; i < s->n_routes; i++)
                if (path_matches(&s->routes[i], url, &tail) && strlen(allow) + 8 < sizeof allow)
                    snprintf(allow + strlen(allow), sizeof allow - strlen(allow), ", %s",
                             s->routes[i].method);
            http_set_header(&resp, "Allow", allow);
        }
    } else if (st->too_large) {
        http_respond_error(&resp, 413, "request body over the %zu-byte limit of %s",
                           st->route->max_body, st->route->path);
    } else if (!authorised(s, st->route, c)) {
        http_respond_error(&resp, 401, "this endpoint needs an API key (X-API-Key or "
                                       "Authorization: Bearer)");
        http_set_header(&resp, "WWW-Authenticate", "Bearer");
    } else if (q && http_parse_query(q + 1, strlen(q + 1), MAX_QUERY_PARAMS, &req.query, &err)) {
        http_respond_error(&resp, 400, "%s", err.msg);
    } else if (st->route->handler(s->app, &req, &resp) != 0 || resp.status == 0) {
        http_respond_json(&resp, 500, json_pack("{s:i,s:s}", "code", 500, "message",
                                                "Internal server error"));
    }
    http_params_free(&req.query);
    return send_response(s, c, st, method, &resp);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **con_cls)
{
    (void)version;
    http_server *s = cls;
    request_state *st = *con_cls;
    if (!st)
        return MHD_NO; /* the URI callback failed to allocate */
    if (st->answered) {
        *upload_size = 0; /* answered early (413): discard the rest */
        return MHD_YES;
    }
    if (!st->started) {
        /* First call: headers only. An announced oversized body is refused
         * at once, before it is sent (curl waits for "100 Continue"). */
        const char *tail;
        int known;
        st->started = 1;
        st->route = find_route(s, method, url, &tail, &known);
        conn_update(s, c, st->route, 0);
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (st->route && cl && strtoull(cl, NULL, 10) > st->route->max_body) {
            st->too_large = 1;
            return answer(s, c, st, url, method);
        }
        return MHD_YES;
    }
    if (*upload_size) {
        size_t limit = st->route ? st->route->max_body : 0;
        if (st->too_large || st->len + *upload_size > limit) {
            st->too_large = 1; /* keep reading, answer 413 at the end */
        } else {
            if (st->len + *upload_size > st->cap) {
                size_t cap = 2 * st->cap > st->len + *upload_size ? 2 * st->cap
                                                                  : st->len + *upload_size;
                if (cap > limit)
                    cap = limit; /* never more than the route accepts */
                unsigned char *grown = realloc(st->body, cap);
                if (!grown)
                    return MHD_NO;
                st->body = grown;
                st->cap = cap;
            }
            memcpy(st->body + st->len, upload, *upload_size);
            st->len += *upload_size;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    conn_update(s, c, st->route, 1); /* arrived whole: no deadline while it is answered */
    return answer(s, c, st, url, method);
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)cls, (void)c;
    request_state *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->uri = strdup(uri);
    clock_gettime(CLOCK_MONOTONIC, &st->start);
    return st;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)toe;
    conn_ready(cls, c); /* a kept-alive connection waits for its next request */
    request_state *st = *con_cls;
    if (!st)
        return;
    free(st->uri);
    free(st->body);
    free(st);
    *con_cls = NULL;
}

int http_start(const http_config *cfg, const http_route *routes, size_t n, void *app,
               http_server **out, ds_err *err)
{
    *out = NULL;
    http_server *s = calloc(1, sizeof *s);
    if (!s || !(s->metrics = calloc(n + 1, sizeof *s->metrics))) {
        free(s);
        return ds_fail(err, DS_ENOMEM, "out of memory");
    }
    s->routes = routes;
    s->n_routes = n;
    s->app = app;
    s->cfg = *cfg;
    if (s->cfg.request_ms <= 0)
        s->cfg.request_ms = 60000;
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->conns_lock, NULL);
    pthread_cond_init(&s->wake, NULL);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)cfg->port)};
    const char *host = cfg->host ? cfg->host : "127.0.0.1";
    if (inet_pton(AF_INET, strcmp(host, "localhost") == 0 ? "127.0.0.1" : host,
                  &addr.sin_addr) != 1) {
        http_stop(s);
        return ds_fail(err, DS_EINVAL, "listen address '%s' is not an IPv4 address", host);
    }
    /* A thread per connection: handlers block while the model embeds an
     * image, and with a pool a connection would also wait behind the other
     * connections of its thread (measured in bench/RESULTS.md). The limits
     * bound those threads; the per-address one keeps a single client from
     * taking them all. */
    unsigned limit = cfg->max_connections > 0 ? (unsigned)cfg->max_connections : 512u;
    unsigned per_ip = cfg->max_per_ip > 0 ? (unsigned)cfg->max_per_ip
                      : cfg->max_per_ip < 0 ? 0u /* no limit */ : 64u;
    s->daemon = MHD_start_daemon(
        MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION,
        (uint16_t)cfg->port, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&addr,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)(cfg->timeout_s > 0 ? cfg->timeout_s : 30),
        MHD_OPTION_CONNECTION_LIMIT, limit, MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_END);
    if (!s->daemon) {
        http_stop(s);
        return ds_fail(err, DS_EIO, "cannot listen on %s:%d (in use, or not permitted)", host,
                       cfg->port);
    }
    if (pthread_create(&s->watchdog, NULL, watchdog, s) != 0) {
        http_stop(s);
        return ds_fail(err, DS_ENOMEM, "cannot start the request watchdog thread");
    }
    s->watchdog_running = 1;
    *out = s;
    return 0;
}

int http_port(const http_server *s)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info ? info->port : -1;
}

void http_stop(http_server *s)
{
    if (!s)
        return;
    if (s->watchdog_running) {
        pthread_mutex_lock(&s->conns_lock);
        s->stopping = 1;
        pthread_cond_signal(&s->wake);
        pthread_mutex_unlock(&s->conns_lock);
        pthread_join(s->watchdog, NULL);
    }
    if (s->daemon)
        MHD_stop_daemon(s->daemon);
    while (s->conns) { /* none should be left: each close removed its own */
        conn_state *next = s->conns->next;
        free(s->conns);
        s->conns = next;
    }
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->conns_lock);
    pthread_mutex_destroy(&s->lock);
    free(s->metrics);
    free(s);
}
