/* pipeline.c - the import's threads, counters, job record and lock (see
 * importer.h for the picture).
 *
 * Threads: the caller's thread reads the inputs (source.c); N decode
 * workers turn bytes into tensors and thumbnails; one embedder runs the
 * model on batches; one writer stores each batch in one transaction and
 * reports progress. Every queue is bounded (a few batches), so a slow
 * stage holds back the faster ones instead of letting work pile up.
 *
 * Shutting down goes from the front: the reader closes the decode queue
 * when it is done; the last decode worker to finish closes the embed
 * queue; the embedder closes the write queue. Cancelling sets `stop`:
 * the reader stops emitting, and the stages drain what is queued without
 * decoding or embedding it further, so nothing is left half-written.
 */
#include "importer/importer_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "base/sha256.h"
#include "base/str.h"
#include "net/net.h"

/* How long an import waits for a backend out of reach (Milvus or S3 down,
 * restarting, or not serving the collection yet) before its items fail:
 * long enough to ride out a restart. */
#define PATIENCE_MS 120000

typedef struct imp_batch {
    imp_item **items;
    int n;
    float *vecs;                 /* n x dim */
} imp_batch;

double imp_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double thread_cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---- counters --------------------------------------------------------------- */

int imp__stopping(imp_ctx *x)
{
    return atomic_load(&x->stop) || (x->opt->cancel && *x->opt->cancel) ||
           (x->parent && imp__stopping(x->parent));
}

/* Fill in the derived figures (lock held). */
static void derive(imp_ctx *x)
{
    imp_progress *p = &x->prog;
    p->elapsed_s = (imp_now_ms() - x->t0) / 1e3;
    int64_t items = p->done + p->skipped + p->failed;
    p->items_per_s = p->elapsed_s > 0 ? (double)items / p->elapsed_s : 0;
    if (p->bytes_read > p->bytes_total)
        p->bytes_read = p->bytes_total;
    /* Progress and ETA follow the images done, not the bytes read: the
     * reader runs batches ahead of the writer, so the bytes were all read
     * (100%, "0 s left") while many images still waited for the model. */
    p->progress = -1;
    p->eta_s = -1;
    int stopped = p->finished && p->status && strcmp(p->status, "done") != 0;
    if (p->finished && !stopped) {
        p->progress = 1;
        p->eta_s = 0;
    } else if (p->total >= 0) {
        /* A failure the count did not foresee (a store that failed) can
         * take items past it: then what is left is not known better than 0. */
        int64_t total = p->total > items ? p->total : items;
        p->progress = total > 0 ? (double)items / (double)total : 0;
        /* A job stopped short (failed, cancelled) did what it did: not
         * 100%, and no time left to guess (-1). */
        if (stopped)
            p->eta_s = -1;
        else if (items == total)
            p->eta_s = 0;
        else if (items > 0 && p->elapsed_s > 1)
            p->eta_s = p->elapsed_s * (double)(total - items) / (double)items;
    }
    p->last_error = x->last_error[0] ? x->last_error : NULL;
}

static void report(imp_ctx *x)
{
    if (!x->opt->progress)
        return;
    pthread_mutex_lock(&x->lock);
    derive(x);
    imp_progress snap = x->prog;
    pthread_mutex_unlock(&x->lock);
    x->opt->progress(x->opt->progress_ctx, &snap);
}

/* A failure, counted and kept (lock not held). */
static void record_failure(imp_ctx *x, const char *what, const char *reason, int count)
{
    pthread_mutex_lock(&x->lock);
    if (count)
        x->prog.failed++;
    if (snprintf(x->last_error, sizeof x->last_error, "%s: %s", what, reason) >=
        (int)sizeof x->last_error)
        memcpy(x->last_error + sizeof x->last_error - 4, "...", 4); /* cut, and says so */
    if (x->job) {
        ds_err ignored;
        cat_job_add_failure(eng_catalog(x->e), x->job, what, reason, &ignored);
    }
    if (x->opt->on_failure)
        x->opt->on_failure(x->opt->progress_ctx, what, reason);
    pthread_mutex_unlock(&x->lock);
}

void imp__fail(imp_ctx *x, const char *what, const char *reason)
{
    record_failure(x, what, reason, 1);
}

#define COUNT(field)                                                                    \
    do {                                                                                \
        pthread_mutex_lock(&x->lock);                                                   \
        x->prog.field++;                                                                \
        pthread_mutex_unlock(&x->lock);                                                 \
    } while (0)

void imp__count_other_doc(imp_ctx *x) { COUNT(other_docs); }
void imp__count_absent(imp_ctx *x) { COUNT(absent); }
void imp__count_ignored(imp_ctx *x) { COUNT(ignored); }
void imp__count_patent(imp_ctx *x) { COUNT(patents); }

int imp_shard_of(const char *key, int n)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 0x100000001b3u;
    return n > 1 ? (int)(h % (uint64_t)n) : 0;
}

int imp__mine(imp_ctx *x, const char *key)
{
    if (x->opt->shards <= 1 || imp_shard_of(key, x->opt->shards) == x->opt->shard)
        return 1;
    COUNT(other_shard);
    return 0;
}

void imp__add_bytes(imp_ctx *x, uint64_t read, uint64_t total)
{
    pthread_mutex_lock(&x->lock);
    x->prog.bytes_read += read;
    x->prog.bytes_total += total;
    pthread_mutex_unlock(&x->lock);
}

void imp__add_parse_ms(imp_ctx *x, double ms)
{
    pthread_mutex_lock(&x->lock);
    x->prog.parse_ms += ms;
    pthread_mutex_unlock(&x->lock);
}

/* The backend is out of reach (why): wait with backoff, and say so once.
 * Returns 1 to try again, 0 to give up (patience spent since `since`, or
 * the import stopping). */
static int wait_for_backend(imp_ctx *x, const ds_err *why, int attempt, double since)
{
    if (imp__stopping(x) || imp_now_ms() - since > PATIENCE_MS)
        return 0;
    if (attempt == 1)
        fprintf(stderr, "dinoseek import: %s; waiting for it (up to %d s)\n", why->msg,
                PATIENCE_MS / 1000);
    for (unsigned left = net_backoff_ms(attempt, 500, 8000); left > 0 && !imp__stopping(x);) {
        unsigned step = left < 100 ? left : 100;
        net_sleep_ms(step);
        left -= step;
    }
    return !imp__stopping(x);
}

/* ---- the reader's side ------------------------------------------------------ */

/* Whether the image stored under it->file_name holds other bytes than it:
 * two different files with one base name (a/IMG_0001.tif, b/IMG_0001.tif)
 * would otherwise pass for "already there", and the second be lost without
 * a word. A content hash known anywhere means the same bytes are stored;
 * else the stored original is read back and compared (a Milvus collection
 * of the seed's has no hash field). Unreadable: not known to differ. */
static int other_image_of_that_name(imp_ctx *x, const imp_item *it)
{
    cat_known known = CAT_KNOWN_NOT;
    ds_err err = {0};
    if (eng_image_known(x->e, x->collection, NULL, NULL, 0, it->hash, &known, &err) != 0 ||
        known != CAT_KNOWN_NOT)
        return 0;
    void *data = NULL;
    size_t len = 0;
    blob_info info;
    if (eng_image_bytes(x->e, x->collection, it->file_name, ENG_IMAGE_FULL, &data, &len, &info,
                        &err) != 0)
        return 0;
    uint8_t digest[DS_SHA256_LEN];
    char hex[65];
    ds_sha256_buf(data, len, digest);
    ds_sha256_hex(digest, hex);
    free(data);
    return strcmp(hex, it->hash) != 0;
}

/* Whether what the catalog knows the item by is only its place (patent_id +
 * image_index) while its name and content are new: another drawing holds
 * the place (a set numbered another way, D00000 next to D00001), and the
 * item is no resumed copy of it. */
static int other_image_at_that_place(imp_ctx *x, const imp_item *it)
{
    cat_known known = CAT_KNOWN_NOT;
    ds_err err = {0};
    return eng_image_known(x->e, x->collection, NULL, NULL, 0, it->hash, &known, &err) == 0 &&
           known == CAT_KNOWN_NOT;
}

static void fail_place_clash(imp_ctx *x, const imp_item *it, const char *pid)
{
    char why[600];
    snprintf(why, sizeof why,
             "patent %s already has another drawing at image_index %d (give this one its "
             "place with --metadata)",
             pid, it->image_index);
    record_failure(x, it->origin, why, 1);
}

/* A name clash is the item's failure: it is not stored, and says why. */
static void fail_name_clash(imp_ctx *x, const imp_item *it)
{
    char why[600];
    snprintf(why, sizeof why,
             "another image named %s, with other content, is already stored (file names "
             "are the collection's ids: rename one of them)",
             it->file_name);
    record_failure(x, it->origin, why, 1);
}

int imp__emit(imp_ctx *x, imp_item *it)
{
    if (imp__stopping(x)) {
        imp_item_free(it);
        return -1;
    }
    if (x->opt->dry_run) {
        /* Counted as what would be stored; nothing is decoded. */
        if (!it->patent_only) {
            pthread_mutex_lock(&x->lock);
            int64_t n = ++x->prog.done;
            pthread_mutex_unlock(&x->lock);
            if (n % 1000 == 0)
                report(x);
        }
        imp_item_free(it);
        return 0;
    }
    if (!it->patent_only) {
        /* Resume: what the catalog has is not decoded again. */
        const char *pid = it->patent ? it->patent->p.patent_id : it->patent_id;
        cat_known known = CAT_KNOWN_NOT;
        ds_err err = {0};
        double since = imp_now_ms();
        for (int attempt = 1; eng_image_known(x->e, x->collection, it->file_name, pid,
                                              it->image_index, it->hash, &known, &err) != 0;
             attempt++) {
            if (err.code != DS_ENET || !wait_for_backend(x, &err, attempt, since)) {
                record_failure(x, it->origin, err.msg, 1);
                imp_item_free(it);
                return 0;
            }
            memset(&err, 0, sizeof err);
        }
        if (known == CAT_KNOWN_FILE_NAME && other_image_of_that_name(x, it)) {
            fail_name_clash(x, it);
            imp_item_free(it);
            return 0;
        }
        if (known == CAT_KNOWN_PATENT_INDEX && other_image_at_that_place(x, it)) {
            fail_place_clash(x, it, pid);
            imp_item_free(it);
            return 0;
        }
        if (known != CAT_KNOWN_NOT) {
            COUNT(skipped);
            /* Stored under its name, maybe without the patent a metadata
             * file now gives it: the writer attaches the patent. */
            it->attach = known == CAT_KNOWN_FILE_NAME && pid && *pid;
            if (!it->patent && !it->attach) {
                imp_item_free(it);
                return 0;
            }
            /* The drawing is there, but its patent's fields may not be (the
             * drawings came first from a plain folder, or are byte for byte
             * another patent's): they go on to the writer without it. */
            free(it->data);
            it->data = NULL;
            it->len = 0;
            it->patent_only = 1;
        }
    }
    if (imp_queue_push(&x->decode_q, it) != 0) {
        imp_item_free(it);
        return -1;
    }
    return 0;
}

/* ---- decode workers ----------------------------------------------------------- */

typedef struct workers {
    imp_ctx *x;
    atomic_int running;
} workers;

static void *decode_worker(void *arg)
{
    workers *w = arg;
    imp_ctx *x = w->x;
    imp_item *it;
    while ((it = imp_queue_pop(&x->decode_q, -1, NULL))) {
        if (!it->patent_only && !imp__stopping(x)) {
            /* CPU time, not wall time: the workers share the cores with the
             * model's threads, and waiting for a core is not decoding. */
            double t0 = thread_cpu_ms();
            if (eng_prepare(x->e, x->collection, it->data, it->len, &it->prep, &it->err) != 0)
                it->failed = 1;
            double ms = thread_cpu_ms() - t0;
            pthread_mutex_lock(&x->lock);
            x->prog.decode_ms += ms;
            pthread_mutex_unlock(&x->lock);
        }
        if (imp_queue_push(&x->embed_q, it) != 0)
            imp_item_free(it);
    }
    if (atomic_fetch_sub(&w->running, 1) == 1)
        imp_queue_close(&x->embed_q);
    return NULL;
}

/* ---- the embedder --------------------------------------------------------------- */

static void batch_free(imp_batch *b)
{
    if (!b)
        return;
    for (int i = 0; i < b->n; i++)
        imp_item_free(b->items[i]);
    free(b->items);
    free(b->vecs);
    free(b);
}

/* Run the model on the batch's decoded images. */
static void embed_batch(imp_ctx *x, imp_batch *b, float *px)
{
    size_t per = (size_t)3 * x->input_size * x->input_size;
    int n = 0;
    for (int i = 0; i < b->n; i++) {
        imp_item *it = b->items[i];
        if (it->prep.px && !it->failed)
            memcpy(px + per * (size_t)n++, it->prep.px, per * sizeof(float));
    }
    if (n == 0)
        return;
    if (imp__stopping(x)) {
        /* Not embedded: nothing of these may be stored. */
        for (int i = 0; i < b->n; i++)
            eng_prepared_clear(&b->items[i]->prep);
        return;
    }
    ds_err err = {0};
    double t0 = imp_now_ms();
    int rc = eng_embed_tensors(x->e, x->collection, px, n, b->vecs, &err);
    double ms = imp_now_ms() - t0;
    pthread_mutex_lock(&x->lock);
    x->prog.embed_ms += ms;
    pthread_mutex_unlock(&x->lock);
    for (int i = 0; i < b->n; i++) {
        imp_item *it = b->items[i];
        if (!it->prep.px || it->failed)
            continue;
        if (rc != 0) {
            it->failed = 1;
            it->err = err;
        } else {
            it->embedded = 1;
        }
        /* The tensor is in the batch's buffer now: only the thumbnail and
         * the bytes go on to the writer. */
        free(it->prep.px);
        it->prep.px = NULL;
    }
}

static void *embedder(void *arg)
{
    imp_ctx *x = arg;
    int cap = x->opt->batch > 0 ? x->opt->batch : IMP_DEFAULT_BATCH;
    size_t per = (size_t)3 * x->input_size * x->input_size;
    float *px = malloc(sizeof(float) * per * (size_t)cap);
    for (;;) {
        imp_item *it = imp_queue_pop(&x->embed_q, -1, NULL);
        if (!it)
            break;
        imp_batch *b = calloc(1, sizeof *b);
        if (b) {
            b->items = calloc((size_t)cap, sizeof *b->items);
            b->vecs = malloc(sizeof(float) * (size_t)x->dim * (size_t)cap);
        }
        if (!b || !b->items || !b->vecs || !px) {
            ds_fail(&x->fatal, DS_ENOMEM, "out of memory");
            atomic_store(&x->stop, 1);
            imp_item_free(it);
            batch_free(b);
            continue; /* drain */
        }
        b->items[b->n++] = it;
        /* Fill the batch; a short pause in the input sends what there is,
         * so that a slow source still shows progress. */
        while (b->n < cap) {
            int timed_out = 0;
            imp_item *next = imp_queue_pop(&x->embed_q, 500, &timed_out);
            if (!next)
                break;
            b->items[b->n++] = next;
        }
        embed_batch(x, b, px);
        if (imp_queue_push(&x->write_q, b) != 0)
            batch_free(b);
    }
    free(px);
    imp_queue_close(&x->write_q);
    return NULL;
}

/* ---- the writer ----------------------------------------------------------------- */

/* The data directory is full (DS_ENOSPACE, from the blob store or SQLite):
 * stop the import. Every further write would fail the same way, and the
 * images are not at fault: they are not recorded as failures but left
 * undone, for the rerun that follows freeing space. What was committed
 * stays; what this batch wrote before the failure is written again then. */
static void stop_storage_full(imp_ctx *x, const ds_err *why)
{
    pthread_mutex_lock(&x->lock);
    if (!x->fatal.code) {
        x->fatal = *why;
        ds_wrap(&x->fatal, "the data directory is full, import stopped (what was stored "
                           "stays: free space and run it again to resume): ");
    }
    x->storage_full = 1;
    pthread_mutex_unlock(&x->lock);
    atomic_store(&x->stop, 1);
}

/* The first DS_ENOSPACE among the items' errors, or NULL. */
static const ds_err *storage_full(const eng_store_item *st, int n)
{
    for (int i = 0; i < n; i++)
        if (st[i].failed && st[i].err.code == DS_ENOSPACE)
            return &st[i].err;
    return NULL;
}

/* Store the batch's embedded images; a transaction that fails as a whole
 * (one bad row) is retried an image at a time so that only the bad one
 * fails. */
static void store_images(imp_ctx *x, eng_store_item *st, imp_item **src, int n)
{
    ds_err err = {0};
    if (n == 0)
        return;
    /* A backend out of reach, for the batch or for some of its items, is
     * waited for and the batch stored again: what an earlier try stored is
     * then "known", and still counted as stored by this import. */
    char *stored = calloc((size_t)n, 1);
    int rc;
    double since = imp_now_ms();
    for (int attempt = 1;; attempt++) {
        memset(&err, 0, sizeof err);
        rc = eng_store_batch(x->e, x->collection, st, n, &err);
        const ds_err *down = rc != 0 && err.code == DS_ENET ? &err : NULL;
        for (int i = 0; i < n; i++) {
            if (stored && rc == 0 && st[i].added)
                stored[i] = 1;
            if (rc == 0 && !down && st[i].failed && st[i].err.code == DS_ENET)
                down = &st[i].err;
        }
        if (!down || !wait_for_backend(x, down, attempt, since))
            break;
    }
    if (rc != 0) {
        /* A backend out of reach (after its retries) or a full disk fails
         * every item the same way: trying them one by one would only wait
         * or fail n times. */
        int same_for_all = err.code == DS_ENET || err.code == DS_ENOSPACE;
        for (int i = 0; same_for_all && i < n; i++) {
            st[i].failed = 1;
            st[i].err = err;
        }
        for (int i = 0; !same_for_all && i < n; i++) {
            ds_err one = {0};
            if (eng_store_batch(x->e, x->collection, &st[i], 1, &one) != 0) {
                st[i].failed = 1;
                st[i].err = one;
            }
        }
    }
    for (int i = 0; stored && i < n; i++)
        if (stored[i]) {        /* stored by an earlier try of this batch */
            st[i].failed = 0;
            st[i].added = 1;
        }
    free(stored);
    const ds_err *full = storage_full(st, n);
    if (full)
        stop_storage_full(x, full);
    int64_t added = 0, known = 0;
    for (int i = 0; i < n; i++) {
        if (st[i].failed && st[i].err.code == DS_ENOSPACE)
            continue; /* not done, not the image's fault: the rerun does it */
        src[i]->stored = st[i].added && !st[i].failed;
        if (st[i].failed)
            record_failure(x, src[i]->origin, st[i].err.msg, 1);
        else if (st[i].added)
            added++;
        else if (st[i].known == CAT_KNOWN_FILE_NAME && other_image_of_that_name(x, src[i]))
            fail_name_clash(x, src[i]); /* its namesake came earlier in this import */
        else
            known++;
    }
    pthread_mutex_lock(&x->lock);
    x->prog.done += added;
    x->prog.skipped += known;
    pthread_mutex_unlock(&x->lock);
}

/* Patents none of whose drawings were stored in this batch keep their
 * bibliographic data anyway: those of drawings that failed, were already
 * there (maybe stored without their patent's fields), or that have none. */
static void store_patents(imp_ctx *x, imp_batch *b)
{
    const cat_patent *list[512];
    int n = 0;
    for (int i = 0; i < b->n && n < 512; i++) {
        imp_item *it = b->items[i];
        if (!it->patent || it->stored || !(it->patent_only || it->failed || it->embedded))
            continue;
        int dup = 0;
        for (int j = 0; j < n && !dup; j++)
            dup = list[j] == &it->patent->p;
        if (!dup)
            list[n++] = &it->patent->p;
    }
    ds_err err = {0};
    if (n > 0 && eng_store_patents(x->e, x->collection, list, n, &err) != 0) {
        for (int i = 0; i < n; i++) {
            ds_err one = {0};
            if (eng_store_patents(x->e, x->collection, &list[i], 1, &one) != 0)
                record_failure(x, list[i]->patent_id, one.msg, 0);
        }
    }
}

/* Images stored before their patent was known get it now. */
static void attach_patents(imp_ctx *x, imp_batch *b)
{
    for (int i = 0; i < b->n; i++) {
        imp_item *it = b->items[i];
        if (!it->attach)
            continue;
        ds_err err = {0};
        const char *pid = it->patent ? it->patent->p.patent_id : it->patent_id;
        if (eng_attach_patent(x->e, x->collection, it->file_name, pid, it->image_index, &err) != 0) {
            /* Counted as skipped when it was found stored: a failure now. */
            pthread_mutex_lock(&x->lock);
            x->prog.skipped--;
            pthread_mutex_unlock(&x->lock);
            record_failure(x, it->origin, err.msg, 1);
        }
    }
}

static void write_batch(imp_ctx *x, imp_batch *b)
{
    eng_store_item st[256];
    imp_item *src[256];
    int n = 0;
    double t0 = imp_now_ms();
    if (x->storage_full)
        return; /* the batches still queued wait for the rerun */
    for (int i = 0, k = 0; i < b->n; i++) {
        imp_item *it = b->items[i];
        if (it->patent_only)
            continue;
        if (it->failed) {
            record_failure(x, it->origin, it->err.msg, 1);
            continue;
        }
        if (!it->embedded)
            continue; /* stopped before it was decoded or embedded: not done */
        st[n] = (eng_store_item){
            .in = {.data = it->data, .len = it->len, .file_name = it->file_name,
                   .patent = it->patent ? &it->patent->p : NULL,
                   .patent_id = it->patent ? NULL : it->patent_id,
                   .image_index = it->image_index},
            .hash = it->hash,
            .thumb = it->prep.thumb,
            .thumb_len = it->prep.thumb_len,
            .vec = b->vecs + (size_t)x->dim * (size_t)k++,
        };
        src[n++] = it;
    }
    store_images(x, st, src, n);
    if (!x->storage_full) {
        store_patents(x, b);
        attach_patents(x, b);
    }
    pthread_mutex_lock(&x->lock);
    x->prog.write_ms += imp_now_ms() - t0;
    imp_progress p = x->prog;
    pthread_mutex_unlock(&x->lock);
    if (x->job) {
        ds_err ignored;
        cat_job_update(eng_catalog(x->e), x->job, p.done, p.skipped, p.failed, &ignored);
    }
    report(x);
}

static void *writer(void *arg)
{
    imp_ctx *x = arg;
    imp_batch *b;
    while ((b = imp_queue_pop(&x->write_q, -1, NULL))) {
        write_batch(x, b);
        batch_free(b);
    }
    return NULL;
}

/* ---- the import lock -------------------------------------------------------------- */

/* One import per collection, across processes: an flock the kernel drops
 * if the holder dies, so a SIGKILLed import never blocks the next one. */
static int lock_collection(eng *e, const char *collection, int *fd_out, ds_err *err)
{
    char path[PATH_MAX];
    if (ds_snprintf(path, sizeof path, err, "%s/import-%s.lock", eng_data_dir(e), collection) != 0)
        return ds_wrap(err, "import lock: ");
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return ds_fail(err, DS_EIO, "%s: %s", path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int why = errno;
        close(fd);
        if (why == EWOULDBLOCK)
            return ds_fail(err, DS_EBUSY, "an import into collection %s is already running",
                           collection);
        return ds_fail(err, DS_EIO, "%s: %s", path, strerror(why));
    }
    *fd_out = fd;
    return 0;
}

int imp_mark_interrupted(eng *e, const char *collection, int64_t *n_out, ds_err *err)
{
    int fd = -1;
    int64_t n = 0, coll = eng_collection_id(e, collection, err);
    if (n_out)
        *n_out = 0;
    if (coll < 0)
        return -1;
    if (lock_collection(e, collection, &fd, err) != 0)
        return err->code == DS_EBUSY ? 0 : -1; /* running: nothing is stale */
    int rc = cat_job_interrupt_stale(eng_catalog(e), coll, "import", &n, err);
    close(fd);
    if (n_out)
        *n_out = n;
    return rc;
}

/* Holding the lock, remove what puts of a killed run left half-written
 * (the rows they were for were never committed; this run writes them
 * again), so that a crash costs no disk space for good. */
static int sweep_blobs(imp_ctx *x, ds_err *err)
{
    size_t removed = 0;
    if (eng_sweep_blobs(x->e, x->collection, &removed, err) != 0)
        return -1;
    if (removed > 0)
        fprintf(stderr, "dinoseek import: removed %zu temporary files that an interrupted "
                        "run left in the blob store\n", removed);
    return 0;
}

/* ---- counting the input -------------------------------------------------------------- */

/* Beside the import, a pass over the same input that only counts (a dry
 * run: files read and parsed, nothing hashed, decoded or stored) gives the
 * number of items the import will see, so that its progress and ETA can
 * follow images done. It is quick next to the model, and stops with the
 * import. */
typedef struct counter {
    imp_ctx *x;                  /* the import */
    imp_ctx c;                   /* the count's own context */
    imp_options opt;             /* the import's, as a dry run reporting nothing */
    pthread_t thread;
    int running;
} counter;

static void *count_input(void *arg)
{
    counter *k = arg;
    imp_ctx *c = &k->c;
    for (int i = 0; i < c->opt->n_paths && !imp__stopping(c); i++) {
        ds_err ignored = {0};
        if (imp_source_read(c, c->opt->paths[i], &ignored) != 0)
            c->prog.failed++; /* the import records this input's failure too */
    }
    if (!imp__stopping(c))
        imp_meta_report_unused(c, c->meta);
    if (!imp__stopping(c)) {
        pthread_mutex_lock(&c->lock);
        int64_t total = c->prog.done + c->prog.failed;
        pthread_mutex_unlock(&c->lock);
        pthread_mutex_lock(&k->x->lock);
        k->x->prog.total = total;
        pthread_mutex_unlock(&k->x->lock);
    }
    return NULL;
}

/* Start counting x's input (nothing happens when it cannot start: the
 * total stays unknown). */
static void counter_start(counter *k, imp_ctx *x)
{
    k->x = x;
    k->opt = *x->opt;
    k->opt.dry_run = 1;
    k->opt.progress = NULL;
    k->opt.on_failure = NULL;
    k->opt.on_start = NULL;
    imp_ctx *c = &k->c;
    c->e = x->e;
    c->opt = &k->opt;
    c->collection = x->collection;
    c->t0 = x->t0;
    c->parent = x;
    atomic_init(&c->stop, 0);
    ds_err ignored = {0};
    if (k->opt.metadata && imp_meta_load(k->opt.metadata, &c->meta, &ignored) != 0)
        return; /* the import fails on it the same way */
    pthread_mutex_init(&c->lock, NULL);
    if (pthread_create(&k->thread, NULL, count_input, k) != 0) {
        pthread_mutex_destroy(&c->lock);
        imp_meta_free(c->meta);
        return;
    }
    k->running = 1;
}

static void counter_stop(counter *k)
{
    if (!k->running)
        return;
    atomic_store(&k->c.stop, 1);
    pthread_join(k->thread, NULL);
    pthread_mutex_destroy(&k->c.lock);
    imp_meta_free(k->c.meta);
    k->running = 0;
}

/* ---- running ----------------------------------------------------------------------- */

int imp_path_inside(const char *path, const char *root)
{
    char r[PATH_MAX], p[PATH_MAX];
    if (!realpath(root, r) || !realpath(path, p))
        return 0;
    size_t n = strlen(r);
    if (n == 1) /* the root is "/" */
        return 1;
    return strncmp(p, r, n) == 0 && (p[n] == 0 || p[n] == '/');
}

static int check_paths(const imp_options *opt, ds_err *err)
{
    char real[PATH_MAX];
    if (opt->n_paths < 1)
        return ds_fail(err, DS_EINVAL, "nothing to import: give at least one path");
    for (int i = 0; i < opt->n_paths; i++) {
        if (!realpath(opt->paths[i], real))
            return ds_fail(err, errno == ENOENT ? DS_ENOTFOUND : DS_EIO, "%s: %s",
                           opt->paths[i], strerror(errno));
        if (opt->root && !imp_path_inside(opt->paths[i], opt->root))
            return ds_fail(err, DS_EINVAL, "%s is outside the import roots", opt->paths[i]);
    }
    return 0;
}

static int start_job(imp_ctx *x, ds_err *err)
{
    char source[4096] = "";
    size_t used = 0;
    for (int i = 0; i < x->opt->n_paths && used < sizeof source; i++)
        used += (size_t)snprintf(source + used, sizeof source - used, "%s%s", i ? " " : "",
                                 x->opt->paths[i]);
    int64_t coll = eng_collection_id(x->e, x->collection, err), stale = 0;
    if (coll < 0)
        return -1;
    cat_db *db = eng_catalog(x->e);
    if (cat_job_interrupt_stale(db, coll, "import", &stale, err) != 0 ||
        cat_job_start(db, coll, "import", source, &x->job, err) != 0)
        return -1;
    if (x->opt->on_start)
        x->opt->on_start(x->opt->progress_ctx, x->job);
    return 0;
}

int imp_run(eng *e, const imp_options *opt, imp_progress *summary, ds_err *err)
{
    if (!e && !opt->dry_run)
        return ds_fail(err, DS_EINVAL, "import: no engine");
    if (check_paths(opt, err) != 0)
        return -1;
    if (opt->shards < 0 || opt->shards > 1000000 ||
        (opt->shards > 1 && (opt->shard < 0 || opt->shard >= opt->shards)))
        return ds_fail(err, DS_EINVAL, "shard %d/%d: want i/n with 0 <= i < n", opt->shard,
                       opt->shards);
    imp_ctx *x = calloc(1, sizeof *x);
    if (!x)
        return ds_fail(err, DS_ENOMEM, "out of memory");
    x->e = e;
    x->opt = opt;
    x->collection = opt->collection ? opt->collection : e ? eng_default_collection(e) : "";
    x->t0 = imp_now_ms();
    x->prog.status = "running";
    x->prog.total = -1;
    counter count = {0};
    pthread_mutex_init(&x->lock, NULL);
    atomic_init(&x->stop, 0);
    int lock_fd = -1, rc = -1, n_workers = 0, started = 0;
    pthread_t workers_t[64], embed_t, write_t;
    workers w = {.x = x};
    int batch = opt->batch > 0 ? opt->batch : IMP_DEFAULT_BATCH;
    if (batch > 256) {
        ds_fail(err, DS_EINVAL, "batch %d is over 256", batch);
        goto out;
    }
    if (opt->metadata && imp_meta_load(opt->metadata, &x->meta, err) != 0)
        goto out;
    if (!opt->dry_run) {
        if (eng_collection_shape(e, x->collection, &x->input_size, &x->dim, err) != 0 ||
            lock_collection(e, x->collection, &lock_fd, err) != 0 || sweep_blobs(x, err) != 0 ||
            start_job(x, err) != 0)
            goto out;
        x->prog.job = x->job;
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        n_workers = opt->workers > 0 ? opt->workers : cores > 0 ? (int)cores : 1;
        if (n_workers > 64)
            n_workers = 64;
        if (imp_queue_init(&x->decode_q, (size_t)batch * 2) != 0 ||
            imp_queue_init(&x->embed_q, (size_t)batch * 2) != 0 ||
            imp_queue_init(&x->write_q, 2) != 0) {
            ds_fail(err, DS_ENOMEM, "out of memory");
            goto out;
        }
        atomic_init(&w.running, n_workers);
        for (int i = 0; i < n_workers; i++)
            pthread_create(&workers_t[i], NULL, decode_worker, &w);
        pthread_create(&embed_t, NULL, embedder, x);
        pthread_create(&write_t, NULL, writer, x);
        started = 1;
        if (!opt->metadata_only) /* no images to count: progress stays unknown */
            counter_start(&count, x);
    }

    /* Sized after the lock: a busy collection answers at once. */
    for (int i = 0; i < opt->n_paths; i++)
        imp__add_bytes(x, 0, imp_source_size(opt->paths[i]));

    /* The reader: this thread. */
    for (int i = 0; i < opt->n_paths && !imp__stopping(x); i++) {
        ds_err read_err = {0};
        if (imp_source_read(x, opt->paths[i], &read_err) != 0)
            record_failure(x, opt->paths[i], read_err.msg, 1);
    }
    /* Every input read: a --metadata row no image matched is said now. */
    if (!imp__stopping(x))
        imp_meta_report_unused(x, x->meta);
    if (started) {
        imp_queue_close(&x->decode_q);
        for (int i = 0; i < n_workers; i++)
            pthread_join(workers_t[i], NULL);
        pthread_join(embed_t, NULL);
        pthread_join(write_t, NULL);
    }
    counter_stop(&count); /* everything is done: the count is no longer needed */
    int cancelled = opt->cancel && *opt->cancel;
    if (x->fatal.code) {
        *err = x->fatal;
        x->prog.status = "failed";
    } else {
        x->prog.status = cancelled ? "cancelled" : "done";
        rc = 0;
    }
    if (!opt->dry_run && e) {
        ds_err ignored;
        if (eng_save_index(e, x->collection, &ignored) != 0)
            fprintf(stderr, "dinoseek: the index file of %s is rebuilt at the next start: %s\n",
                    x->collection, ignored.msg);
        cat_job_update(eng_catalog(e), x->job, x->prog.done, x->prog.skipped, x->prog.failed,
                       &ignored);
        cat_job_finish(eng_catalog(e), x->job, x->prog.status, &ignored);
    }
    if (rc != 0 && cancelled)
        rc = 0;
out:
    counter_stop(&count);
    if (rc != 0 && !x->fatal.code && x->job) {
        ds_err ignored;
        cat_job_finish(eng_catalog(e), x->job, "failed", &ignored);
    }
    x->prog.finished = 1;
    if (rc != 0)
        x->prog.status = "failed";
    report(x);
    pthread_mutex_lock(&x->lock);
    derive(x);
    if (summary) {
        *summary = x->prog;
        summary->last_error = NULL; /* x->last_error dies with x */
    }
    pthread_mutex_unlock(&x->lock);
    imp_queue_destroy(&x->decode_q); /* a queue never initialised is a no-op */
    imp_queue_destroy(&x->embed_q);
    imp_queue_destroy(&x->write_q);
    if (lock_fd >= 0)
        close(lock_fd);
    imp_meta_free(x->meta);
    pthread_mutex_destroy(&x->lock);
    free(x);
    return rc;
}
