/* generate.c - a week of sample patents: options, worker threads, output.
 *
 * Patents are made in batches: worker threads each take the next patent of
 * the batch (draw, encode, write its folder, zip it in memory); then the
 * main thread appends the batch, in patent order, to the tar and to the
 * concatenated XML. Output therefore does not depend on scheduling, and
 * memory holds one batch of ZIPs at most.
 */
#include "sample/sample_internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image/image.h"

#define MAX_THREADS 64
#define MAX_DIR 3000
#define BATCH_PER_THREAD 8

void sample_opts_default(sample_opts *o)
{
    memset(o, 0, sizeof *o);
    o->patents = 300;
    o->seed = 1;
    o->views_min = 3;
    o->views_max = 7;
    o->width = 850;
    o->height = 1100;
    o->date = 20221025;
    o->tar = 1;
}

int sample_opts_check(const sample_opts *o, ds_err *err)
{
    if (o->patents < 1 || o->patents > SAMPLE_MAX_PATENTS)
        return ds_fail(err, DS_EINVAL, "--patents must be within 1..%d", SAMPLE_MAX_PATENTS);
    if (o->views_min < 1 || o->views_max > SAMPLE_MAX_VIEWS || o->views_min > o->views_max)
        return ds_fail(err, DS_EINVAL,
                       "views per patent must be within 1..%d, the minimum not above the "
                       "maximum (got %d..%d)",
                       SAMPLE_MAX_VIEWS, o->views_min, o->views_max);
    if (o->width < SAMPLE_MIN_SIDE || o->width > SAMPLE_MAX_SIDE || o->height < SAMPLE_MIN_SIDE ||
        o->height > SAMPLE_MAX_SIDE)
        return ds_fail(err, DS_EINVAL, "--size must be within %dx%d..%dx%d (got %dx%d)",
                       SAMPLE_MIN_SIDE, SAMPLE_MIN_SIDE, SAMPLE_MAX_SIDE, SAMPLE_MAX_SIDE,
                       o->width, o->height);
    if (!sp_date_valid(o->date) || o->date < 19760101 || o->date > 20991231)
        return ds_fail(err, DS_EINVAL, "--date %d is not a date YYYYMMDD in 1976..2099", o->date);
    long first = o->first ? o->first : sp_first_number(o->date);
    if (first < 100000 || first + o->patents - 1 > 9999999)
        return ds_fail(err, DS_EINVAL,
                       "patent numbers D%ld..D%ld do not fit 7 digits (--first within "
                       "100000..%d)",
                       first, first + o->patents - 1, 9999999 - o->patents + 1);
    if (o->threads < 0 || o->threads > 1024)
        return ds_fail(err, DS_EINVAL, "--threads must be within 0..1024");
    return 0;
}

/* ---- one patent --------------------------------------------------------------- */

typedef struct job {
    sample_patent pat;
    sp_buf xml;
    void *zip;
    size_t zip_len;
    int images;
    uint64_t bytes; /* written into its folder */
    int rc;
    ds_err err;
} job;

static void job_clear(job *j)
{
    sp_buf_free(&j->xml);
    free(j->zip);
    memset(j, 0, sizeof *j);
}

static int make_patent(sheet_ctx *s, const sample_opts *o, const char *dir, int index, job *j)
{
    char folder[4096], path[4200], names[SAMPLE_MAX_VIEWS + 1][96];
    void *tif[SAMPLE_MAX_VIEWS] = {0};
    size_t tif_len[SAMPLE_MAX_VIEWS] = {0};
    pk_member members[SAMPLE_MAX_VIEWS + 1];
    sample_patent *p = &j->pat;
    ds_prng shape;
    int rc = -1;

    sp_patent_make(o, index, p);
    if (sp_xml(p, o->width, o->height, &j->xml, &j->err) != 0)
        return -1;
    snprintf(folder, sizeof folder, "%s/%s", dir, p->stem);
    if (pk_mkdirs(folder, &j->err) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/%s.XML", folder, p->stem);
    if (pk_write_file(path, j->xml.p, j->xml.n, &j->err) != 0)
        return -1;
    j->bytes += j->xml.n;
    snprintf(names[0], sizeof names[0], "%s/%s.XML", p->stem, p->stem);
    members[0] = (pk_member){names[0], j->xml.p, j->xml.n};

    ds_prng_seed(&shape, p->shape_seed);
    if (obj_build(&s->mesh, p->family, p->variant, &shape, &j->err) != 0)
        return -1;
    for (int k = 0; k < p->nviews; k++) {
        sheet_draw(s, p, k);
        if (sheet_tiff(s, &tif[k], &tif_len[k], &j->err) != 0)
            goto out;
        snprintf(path, sizeof path, "%s/%s-D%05d.TIF", folder, p->stem, k + 1);
        if (pk_write_file(path, tif[k], tif_len[k], &j->err) != 0)
            goto out;
        j->bytes += tif_len[k];
        j->images++;
        snprintf(names[k + 1], sizeof names[k + 1], "%s/%s-D%05d.TIF", p->stem, p->stem, k + 1);
        members[k + 1] = (pk_member){names[k + 1], tif[k], tif_len[k]};
    }
    if (o->tar && pk_zip(members, p->nviews + 1, p->date, &j->zip, &j->zip_len, &j->err) != 0)
        goto out;
    rc = 0;
out:
    for (int k = 0; k < SAMPLE_MAX_VIEWS; k++)
        free(tif[k]);
    return rc;
}

/* ---- the workers --------------------------------------------------------------- */

typedef struct batch {
    const sample_opts *o;
    const char *dir;
    job *jobs;
    int start, count;
    atomic_int next;
} batch;

typedef struct worker {
    pthread_t thread;
    sheet_ctx sheet;
    batch *b;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    batch *b = w->b;
    for (;;) {
        int i = atomic_fetch_add(&b->next, 1);
        if (i >= b->count)
            break;
        job *j = &b->jobs[i];
        j->rc = make_patent(&w->sheet, b->o, b->dir, b->start + i, j);
    }
    return NULL;
}

/* Run one batch on nw workers (the calling thread is the first). */
static void run_batch(worker *ws, int nw, batch *b)
{
    int started = 1;
    atomic_store(&b->next, 0);
    for (int t = 0; t < nw; t++)
        ws[t].b = b;
    for (int t = 1; t < nw; t++, started++)
        if (pthread_create(&ws[t].thread, NULL, work, &ws[t]) != 0)
            break; /* fewer threads: the others take the work */
    work(&ws[0]);
    for (int t = 1; t < started; t++)
        pthread_join(ws[t].thread, NULL);
}

/* ---- the week ------------------------------------------------------------------- */

typedef struct output {
    FILE *ipgb;
    char ipgb_path[4200];
    pk_tar *tar;
    sample_stats st;
} output;

/* Append a finished batch, in order. */
static int emit(output *out, const sample_opts *o, batch *b, ds_err *err)
{
    char name[96];
    for (int i = 0; i < b->count; i++) {
        job *j = &b->jobs[i];
        if (j->rc != 0) {
            *err = j->err;
            return ds_wrap(err, "patent %d (%s): ", b->start + i + 1, j->pat.doc);
        }
        if (fwrite(j->xml.p, 1, j->xml.n, out->ipgb) != j->xml.n)
            return ds_fail(err, DS_EIO, "cannot write %s", out->ipgb_path);
        if (o->tar) {
            snprintf(name, sizeof name, "DESIGN/%s.ZIP", j->pat.stem);
            if (pk_tar_add(out->tar, name, j->zip, j->zip_len, o->date, err) != 0)
                return -1;
        }
        out->st.patents++;
        out->st.images += j->images;
        out->st.bytes += j->bytes;
        if (out->st.patents == 1)
            out->st.first = j->pat.number;
        out->st.last = j->pat.number;
    }
    return 0;
}

static int thread_count(const sample_opts *o)
{
    long n = o->threads ? o->threads : sysconf(_SC_NPROCESSORS_ONLN);
    n = n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : n;
    return n > o->patents ? o->patents : (int)n;
}

int sample_generate(const char *dir, const sample_opts *o, sample_stats *st, ds_err *err)
{
    output out = {0};
    worker *ws = NULL;
    job *jobs = NULL;
    int nw = thread_count(o), per = nw * BATCH_PER_THREAD, made = 0, rc = -1;

    /* Every path made below is dir plus at most ~70 bytes: checked once here
     * rather than at each snprintf. */
    if (strlen(dir) > MAX_DIR)
        return ds_fail(err, DS_EINVAL, "sample: directory name longer than %d bytes", MAX_DIR);
    if (sample_opts_check(o, err) != 0 || img_init(NULL, err) != 0 || pk_mkdirs(dir, err) != 0)
        return -1;
    ws = calloc((size_t)nw, sizeof *ws);
    jobs = calloc((size_t)per, sizeof *jobs);
    if (!ws || !jobs) {
        ds_fail(err, DS_ENOMEM, "sample: out of memory");
        goto out;
    }
    for (; made < nw; made++)
        if (sheet_ctx_init(&ws[made].sheet, o->width, o->height, err) != 0)
            goto out;
    snprintf(out.ipgb_path, sizeof out.ipgb_path, "%s/ipgb%08d.xml", dir, o->date);
    if (!(out.ipgb = fopen(out.ipgb_path, "wb"))) {
        ds_fail(err, DS_EIO, "cannot write %s", out.ipgb_path);
        goto out;
    }
    if (o->tar) {
        char tar[4200];
        snprintf(tar, sizeof tar, "%s/I%08d.tar", dir, o->date);
        if (pk_tar_open(tar, &out.tar, err) != 0)
            goto out;
    }
    for (int start = 0; start < o->patents; start += per) {
        batch b = {.o = o, .dir = dir, .jobs = jobs, .start = start};
        b.count = o->patents - start < per ? o->patents - start : per;
        run_batch(ws, nw, &b);
        int e = emit(&out, o, &b, err);
        for (int i = 0; i < b.count; i++)
            job_clear(&jobs[i]);
        if (e != 0)
            goto out;
    }
    long pos = ftell(out.ipgb);
    int bad = fclose(out.ipgb) != 0;
    out.ipgb = NULL;
    if (bad) {
        ds_fail(err, DS_EIO, "cannot write %s", out.ipgb_path);
        goto out;
    }
    out.st.bytes += pos > 0 ? (uint64_t)pos : 0;
    pk_tar *tar = out.tar;
    out.tar = NULL;
    if (pk_tar_close(tar, &out.st.tar_bytes, err) != 0)
        goto out;
    out.st.bytes += out.st.tar_bytes;
    if (st)
        *st = out.st;
    rc = 0;
out:
    if (out.ipgb)
        fclose(out.ipgb);
    pk_tar_close(out.tar, NULL, NULL);
    for (int t = 0; t < made; t++)
        sheet_ctx_free(&ws[t].sheet);
    free(ws);
    free(jobs);
    return rc;
}
