/* net.c - libcurl set-up, the handle pool, buffers and retries (see net.h). */
#include "net/net.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/prng.h"

#define POOL_MAX 64
#define BUF_DEFAULT_LIMIT ((size_t)64 << 20)

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static CURLcode init_rc;

static void global_init(void) { init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

int net_init(ds_err *err)
{
    pthread_once(&init_once, global_init);
    if (init_rc != CURLE_OK)
        return ds_fail(err, DS_ENET, "libcurl: %s", curl_easy_strerror(init_rc));
    return 0;
}

struct net_pool {
    pthread_mutex_t lock;
    CURL *idle[POOL_MAX];
    int n_idle, max_idle;
};

net_pool *net_pool_new(int max_idle, ds_err *err)
{
    if (net_init(err) != 0)
        return NULL;
    net_pool *p = calloc(1, sizeof *p);
    if (!p) {
        ds_fail(err, DS_ENOMEM, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&p->lock, NULL);
    p->max_idle = max_idle < 1 ? 1 : max_idle > POOL_MAX ? POOL_MAX : max_idle;
    return p;
}

CURL *net_take(net_pool *p)
{
    CURL *h = NULL;
    pthread_mutex_lock(&p->lock);
    if (p->n_idle > 0)
        h = p->idle[--p->n_idle];
    pthread_mutex_unlock(&p->lock);
    if (h) {
        curl_easy_reset(h);
        return h;
    }
    return curl_easy_init();
}

void net_give(net_pool *p, CURL *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&p->lock);
    if (p->n_idle < p->max_idle) {
        p->idle[p->n_idle++] = h;
        h = NULL;
    }
    pthread_mutex_unlock(&p->lock);
    if (h)
        curl_easy_cleanup(h);
}

void net_pool_free(net_pool *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->n_idle; i++)
        curl_easy_cleanup(p->idle[i]);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

size_t net_buf_write(char *ptr, size_t size, size_t n, void *buf)
{
    net_buf *b = buf;
    size_t add = size * n, limit = b->limit ? b->limit : BUF_DEFAULT_LIMIT;
    if (add > limit - b->len || b->len > limit) {
        b->over = 1;
        return 0; /* stops the transfer: CURLE_WRITE_ERROR */
    }
    if (b->len + add + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + add + 1)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d) {
            b->nomem = 1;
            return 0;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, ptr, add);
    b->len += add;
    b->data[b->len] = '\0';
    return add;
}

void net_buf_reset(net_buf *b)
{
    b->len = 0;
    b->over = b->nomem = 0;
    if (b->data)
        b->data[0] = '\0';
}

void net_buf_free(net_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->over = b->nomem = 0;
}

int net_retryable(CURLcode cc, long status)
{
    if (cc != CURLE_OK)
        /* Errors of our own making are final: a write callback that refused
         * the body (too big, no memory) or an option we set wrongly. */
        return cc != CURLE_WRITE_ERROR && cc != CURLE_OUT_OF_MEMORY &&
               cc != CURLE_BAD_FUNCTION_ARGUMENT && cc != CURLE_UNSUPPORTED_PROTOCOL &&
               cc != CURLE_URL_MALFORMAT && cc != CURLE_ABORTED_BY_CALLBACK;
    return status == 408 || status == 429 || status >= 500;
}

unsigned net_backoff_ms(int attempt, unsigned base_ms, unsigned cap_ms)
{
    /* One generator for the process, advanced atomically: the jitter must
     * differ between threads and processes, not be repeatable. */
    static _Atomic uint64_t state;
    uint64_t s = atomic_load(&state);
    if (s == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)(uintptr_t)&ts;
        atomic_compare_exchange_strong(&state, &s, seed | 1);
    }
    ds_prng r = {atomic_fetch_add(&state, 0x9E3779B97F4A7C15ull)};
    uint64_t bound = base_ms;
    for (int i = 1; i < attempt && bound < cap_ms; i++)
        bound *= 2;
    if (bound > cap_ms)
        bound = cap_ms;
    return (unsigned)(ds_prng_next(&r) % (bound + 1));
}

void net_sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

int net_uri_encode(const char *s, int keep_slash, char *out, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        int plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' ||
                    *p == '~' || (keep_slash && *p == '/');
        if (o + (plain ? 1 : 3) + 1 > n)
            return -1;
        if (plain) {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    if (o + 1 > n)
        return -1;
    out[o] = '\0';
    return (int)o;
}

const char *net_curl_message(CURLcode cc, const char *errbuf)
{
    return errbuf && *errbuf ? errbuf : curl_easy_strerror(cc);
}
