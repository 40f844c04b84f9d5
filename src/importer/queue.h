/* queue.h - a bounded blocking queue of pointers between pipeline stages.
 *
 * Bounded so that memory stays flat whatever the input's size: a fast stage
 * waits for the slow one instead of piling up work. Closing wakes everyone:
 * pops drain what is left, then return NULL.
 */
#ifndef DS_IMP_QUEUE_H
#define DS_IMP_QUEUE_H

#include <pthread.h>
#include <stddef.h>

typedef struct imp_queue {
    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full;
    void **slots;
    size_t cap, head, len;
    int closed;
} imp_queue;

int imp_queue_init(imp_queue *q, size_t cap);
void imp_queue_destroy(imp_queue *q);

/* Append p, waiting while the queue is full. Returns 0, or -1 when the
 * queue was closed (p not taken). */
int imp_queue_push(imp_queue *q, void *p);

/* The oldest element, waiting while the queue is empty and open; NULL once
 * it is closed and empty. With wait_ms >= 0, gives up after that long and
 * returns NULL with *timed_out set (timed_out may then not be NULL). */
void *imp_queue_pop(imp_queue *q, int wait_ms, int *timed_out);

/* No more pushes: wakes every waiter. Idempotent. */
void imp_queue_close(imp_queue *q);

#endif
