/* net.h - what the network backends (the S3 blob store, the Milvus index)
 * share: libcurl set up once, a pool of reusable handles, a bounded response
 * buffer, and one retry policy.
 *
 * Pooled handles keep their connections (curl_easy_reset leaves a handle's
 * connection cache alone), so a busy server talks to S3 or Milvus over a few
 * kept-alive connections instead of a TCP handshake per request.
 *
 * Retries: a request that failed in a way that may pass on its own (no
 * connection, a timeout, HTTP 429 or 5xx) is tried again after a backoff that
 * doubles from base_ms up to cap_ms with full jitter (a random wait between 0
 * and the bound), so that many clients retrying at once spread out instead of
 * striking the recovering server together. Anything else (4xx: the request
 * is wrong, or unauthorised) is final at once.
 *
 * Thread safety: every function may be called from any thread.
 */
#ifndef DS_NET_H
#define DS_NET_H

#include <curl/curl.h>
#include <stddef.h>

#include "base/error.h"

/* curl_global_init, once per process (pthread_once). Returns 0, or -1 with
 * err. Called by net_pool_new; harmless to call again. */
int net_init(ds_err *err);

typedef struct net_pool net_pool;

/* A pool keeping up to max_idle handles between requests (1..64).
 * Returns NULL when out of memory. */
net_pool *net_pool_new(int max_idle, ds_err *err);

/* A handle ready to be set up (reset: no options left from its last use,
 * but its connections kept); NULL when out of memory. Give it back with
 * net_give. */
CURL *net_take(net_pool *p);

/* Return a handle (NULL is ignored); beyond max_idle it is cleaned up. */
void net_give(net_pool *p, CURL *h);

/* Clean up every idle handle and the pool. NULL is a no-op. Every handle
 * taken must have been given back. */
void net_pool_free(net_pool *p);

/* A response body collected in memory, refusing to grow past limit bytes
 * (over is set and the transfer stopped). data is always NUL-terminated
 * once anything was written. */
typedef struct net_buf {
    char *data;
    size_t len, cap;
    size_t limit;      /* 0: 64 MiB */
    int over;          /* the body was larger than limit */
    int nomem;
} net_buf;

/* CURLOPT_WRITEFUNCTION for a net_buf (CURLOPT_WRITEDATA is the buffer). */
size_t net_buf_write(char *ptr, size_t size, size_t n, void *buf);

/* Empty the buffer, keeping its memory and limit. */
void net_buf_reset(net_buf *b);

/* Free the buffer's memory; it may be used again. */
void net_buf_free(net_buf *b);

/* Whether a failed attempt may succeed if tried again: a transfer error
 * (cc != CURLE_OK: connect, timeout, reset) or HTTP 408, 429 or 5xx. */
int net_retryable(CURLcode cc, long status);

/* The wait before retry number `attempt` (1, 2, ...): uniform in
 * [0, min(cap_ms, base_ms << (attempt-1))]. */
unsigned net_backoff_ms(int attempt, unsigned base_ms, unsigned cap_ms);

/* Sleep ms milliseconds (restarted after signals). */
void net_sleep_ms(unsigned ms);

/* Percent-encode s into out (size n) as RFC 3986 unreserved characters
 * allow, keeping '/' when keep_slash (an S3 object path): the encoding AWS
 * Signature V4 expects in canonical paths and query strings. Returns the
 * length, or -1 when out is too small. */
int net_uri_encode(const char *s, int keep_slash, char *out, size_t n);

/* A message for a failed transfer: curl's errbuf when set, else its
 * description of cc. */
const char *net_curl_message(CURLcode cc, const char *errbuf);

#endif
