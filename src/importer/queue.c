/* queue.c - the bounded queue of queue.h: a ring buffer under one mutex. */
#include "importer/queue.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

int imp_queue_init(imp_queue *q, size_t cap)
{
    q->slots = calloc(cap ? cap : 1, sizeof *q->slots);
    if (!q->slots)
        return -1;
    q->cap = cap ? cap : 1;
    q->head = q->len = 0;
    q->closed = 0;
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->not_empty, NULL);
    pthread_cond_init(&q->not_full, NULL);
    return 0;
}

void imp_queue_destroy(imp_queue *q)
{
    if (!q->slots)
        return;
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->not_empty);
    pthread_cond_destroy(&q->not_full);
    free(q->slots);
    q->slots = NULL;
}

int imp_queue_push(imp_queue *q, void *p)
{
    pthread_mutex_lock(&q->lock);
    while (q->len == q->cap && !q->closed)
        pthread_cond_wait(&q->not_full, &q->lock);
    if (q->closed) {
        pthread_mutex_unlock(&q->lock);
        return -1;
    }
    q->slots[(q->head + q->len) % q->cap] = p;
    q->len++;
    pthread_cond_signal(&q->not_empty);
    pthread_mutex_unlock(&q->lock);
    return 0;
}

void *imp_queue_pop(imp_queue *q, int wait_ms, int *timed_out)
{
    struct timespec until;
    if (timed_out)
        *timed_out = 0;
    if (wait_ms >= 0) {
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += wait_ms / 1000;
        until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
    }
    pthread_mutex_lock(&q->lock);
    while (q->len == 0 && !q->closed) {
        if (wait_ms < 0) {
            pthread_cond_wait(&q->not_empty, &q->lock);
        } else if (pthread_cond_timedwait(&q->not_empty, &q->lock, &until) == ETIMEDOUT) {
            if (q->len == 0) {
                if (timed_out)
                    *timed_out = 1;
                pthread_mutex_unlock(&q->lock);
                return NULL;
            }
        }
    }
    void *p = NULL;
    if (q->len > 0) {
        p = q->slots[q->head];
        q->head = (q->head + 1) % q->cap;
        q->len--;
        pthread_cond_signal(&q->not_full);
    }
    pthread_mutex_unlock(&q->lock);
    return p;
}

void imp_queue_close(imp_queue *q)
{
    pthread_mutex_lock(&q->lock);
    q->closed = 1;
    pthread_cond_broadcast(&q->not_empty);
    pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->lock);
}
