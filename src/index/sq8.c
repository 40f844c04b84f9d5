/* sq8.c - the 8-bit pre-scan that makes exact search read a quarter of the
 * bytes (see "the 8-bit pre-scan" in internal.h for the idea).
 *
 * Why the bound holds. For a stored row x (the float32 or float16 values
 * the exact kernel reads), its code c and x̂ = lo + step·c (real numbers):
 *
 *   |q·x − q·x̂| ≤ |q|·|x − x̂|                              (Cauchy–Schwarz)
 *
 * The scores are computed in float, not in reals. A dot product of n terms
 * summed in any order is within n·2⁻²⁴·Σ|terms| of its real value (to first
 * order), and Σ|terms| ≤ |q|·|vector| (Cauchy–Schwarz again). The code's
 * score sums dim products q[d]·step[d]·c[d] and the bias Σ q[d]·lo[d]; the
 * exact kernel sums dim products q[d]·x[d]. So, with e = |x − x̂|,
 * W = |step·c|, N = |x|, every stored bound is
 *
 *   b = e + (dim + 3)·2⁻²³·(W + |lo| + N) + 1e-6,   rounded up to float,
 *
 * twice the first-order rounding error plus an absolute floor, and
 *
 *   code score − |q|·b  ≤  exact kernel score  ≤  code score + |q|·b.
 *
 * The rounding terms are ~1e-4 against e ≈ 1e-2 for 384-d unit vectors: the
 * pre-scan keeps the vectors within ~0.02 of the k-th best score, a few
 * dozen in 100k random vectors.
 */
#include "index/internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/safetensors.h"

enum { PRESCAN_BLOCK = 256, CAND_START = 1024 };

/* 2^-23: twice float's unit roundoff. */
#define ROUNDING 1.1920928955078125e-07

static float row_value(const void *rows, int f16, size_t at)
{
    return f16 ? st_f16_to_f32(((const uint16_t *)rows)[at]) : ((const float *)rows)[at];
}

/* The smallest float >= v. */
static float round_up(double v)
{
    float f = (float)v;
    return (double)f < v ? nextafterf(f, INFINITY) : f;
}

void idx_sq8_range_init(float *lo, float *hi, int dim)
{
    for (int d = 0; d < dim; d++) {
        lo[d] = INFINITY;
        hi[d] = -INFINITY;
    }
}

void idx_sq8_range_add(float *lo, float *hi, int dim, const void *rows, int f16, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (int d = 0; d < dim; d++) {
            float x = row_value(rows, f16, i * (size_t)dim + (size_t)d);
            if (x < lo[d])
                lo[d] = x;
            if (x > hi[d])
                hi[d] = x;
        }
}

int idx_sq8_fit(idx_sq8 *z, int dim, const float *lo, const float *hi, size_t count)
{
    float *nlo = malloc((size_t)dim * sizeof *nlo), *nstep = malloc((size_t)dim * sizeof *nstep);
    if (!nlo || !nstep) {
        free(nlo), free(nstep);
        return -1;
    }
    double norm = 0;
    for (int d = 0; d < dim; d++) {
        /* An empty or constant dimension still gets a usable scale: its
         * codes are then 0 (or clamped), and the bound says how far off. */
        nlo[d] = isfinite(lo[d]) ? lo[d] : 0.0f;
        float step = isfinite(hi[d]) && isfinite(lo[d]) ? (hi[d] - lo[d]) / 255.0f : 0.0f;
        nstep[d] = step > 0 && isfinite(step) ? step : 1.0f;
        norm += (double)nlo[d] * nlo[d];
    }
    idx_sq8_free(z);
    z->dim = dim;
    z->lo = nlo;
    z->step = nstep;
    z->lo_norm = sqrt(norm);
    z->trained_on = count ? count : 1;
    return 0;
}

int idx_sq8_restore(idx_sq8 *z, int dim, const void *lo_step, size_t fitted_on)
{
    float *lo = malloc((size_t)dim * sizeof *lo), *step = malloc((size_t)dim * sizeof *step);
    if (!lo || !step) {
        free(lo), free(step);
        return -1;
    }
    memcpy(lo, lo_step, (size_t)dim * sizeof *lo);
    memcpy(step, (const char *)lo_step + (size_t)dim * sizeof *lo, (size_t)dim * sizeof *step);
    double norm = 0;
    for (int d = 0; d < dim; d++)
        norm += (double)lo[d] * lo[d];
    idx_sq8_free(z);
    *z = (idx_sq8){dim, lo, step, sqrt(norm), fitted_on ? fitted_on : 1};
    return 0;
}

void idx_sq8_free(idx_sq8 *z)
{
    free(z->lo);
    free(z->step);
    z->lo = z->step = NULL;
    z->trained_on = 0;
}

void idx_sq8_encode(const idx_sq8 *z, const void *rows, int f16, size_t n, uint8_t *codes,
                    float *bounds)
{
    int dim = z->dim;
    for (size_t i = 0; i < n; i++) {
        uint8_t *c = codes + i * (size_t)dim;
        double e2 = 0, w2 = 0, n2 = 0;
        for (int d = 0; d < dim; d++) {
            float x = row_value(rows, f16, i * (size_t)dim + (size_t)d);
            float t = (x - z->lo[d]) / z->step[d];
            /* Written so that NaN lands on 0 (its bound is then NaN, and
             * NaN bounds never prune: the row is always rescored). */
            int code = t > 0 ? (t < 255.0f ? (int)(t + 0.5f) : 255) : 0;
            c[d] = (uint8_t)code;
            double w = (double)z->step[d] * code, diff = (double)x - ((double)z->lo[d] + w);
            e2 += diff * diff;
            w2 += w * w;
            n2 += (double)x * x;
        }
        double slack = (dim + 3) * ROUNDING * (sqrt(w2) + z->lo_norm + sqrt(n2)) + 1e-6;
        bounds[i] = round_up(sqrt(e2) + slack);
    }
}

void idx_sq8_query_init(const idx_sq8 *z, const float *q, idx_sq8_query *out)
{
    double bias = 0, norm = 0;
    for (int d = 0; d < z->dim; d++) {
        out->qs[d] = q[d] * z->step[d];
        bias += (double)q[d] * z->lo[d];
        norm += (double)q[d] * q[d];
    }
    out->bias = (float)bias;
    out->qnorm = round_up(sqrt(norm) * (1 + 1e-6));
}

/* ---- the pre-scan ---------------------------------------------------------- */

void idx_prescan_init(idx_prescan *p, idx_hit *lower_store, int k)
{
    memset(p, 0, sizeof *p);
    p->lower = (idx_topk){lower_store, k, 0};
}

void idx_prescan_free(idx_prescan *p)
{
    free(p->cand);
    p->cand = NULL;
    p->n = p->cap = 0;
}

/* The k-th best lower bound seen so far: nothing scoring under it can be in
 * the top k. */
static float threshold(const idx_prescan *p)
{
    return p->lower.n == p->lower.k ? p->lower.h[0].score : -INFINITY;
}

/* Room for one more candidate: first drop those the threshold has passed,
 * then grow if that did not free a quarter. */
static int make_room(idx_prescan *p)
{
    if (p->n < p->cap)
        return 0;
    float tau = threshold(p);
    size_t kept = 0;
    for (size_t i = 0; i < p->n; i++)
        if (!(p->cand[i].upper < tau))
            p->cand[kept++] = p->cand[i];
    p->n = kept;
    if (p->n * 4 < p->cap * 3)
        return 0;
    size_t cap = p->cap ? p->cap * 2 : CAND_START;
    idx_cand *c = realloc(p->cand, cap * sizeof *c);
    if (!c) {
        p->oom = 1;
        return -1;
    }
    p->cand = c;
    p->cap = cap;
    return 0;
}

void idx_prescan_rows(idx_prescan *p, const idx_sq8_query *q, int dim, const uint8_t *codes,
                      const float *bounds, const int64_t *ids, const void *rows,
                      size_t row_bytes, size_t n, const idx_filter *filter)
{
    float est[PRESCAN_BLOCK];
    for (size_t b = 0; b < n && !p->oom; b += PRESCAN_BLOCK) {
        size_t m = n - b < PRESCAN_BLOCK ? n - b : PRESCAN_BLOCK;
        idx_dot_rows_u8(q->qs, codes + b * (size_t)dim, m, dim, est);
        float tau = threshold(p);
        for (size_t i = 0; i < m; i++) {
            float s = est[i] + q->bias, slack = q->qnorm * bounds[b + i];
            float upper = s + slack;
            if (upper < tau)
                continue;
            int64_t id = ids[b + i];
            if (!idx_filter_allows(filter, id))
                continue;
            float lower = s - slack;
            if (idx_topk_wants(&p->lower, id, lower)) {
                idx_topk_push(&p->lower, id, lower);
                tau = threshold(p);
            }
            if (upper < tau || make_room(p))
                continue;
            p->cand[p->n++] = (idx_cand){(const char *)rows + (b + i) * row_bytes, id, upper};
        }
    }
}

int idx_prescan_begin(idx_prescan_search *s, const idx_sq8 *z, const float *q, int nparts, int k)
{
    memset(s, 0, sizeof *s);
    /* The query is read by every thread's kernel, four rows per load: on a
     * cache line of its own, aligned for the vector loads. The parts, one
     * per thread and written as they go, each on its own line too. */
    size_t qbytes = ((size_t)z->dim * sizeof *s->q.qs + 63) / 64 * 64;
    s->q.qs = aligned_alloc(64, qbytes);
    s->parts = aligned_alloc(64, (size_t)nparts * sizeof *s->parts);
    s->lower = malloc((size_t)nparts * k * sizeof *s->lower);
    s->nparts = nparts;
    if (s->parts)
        memset(s->parts, 0, (size_t)nparts * sizeof *s->parts);
    if (!s->q.qs || !s->parts || !s->lower) {
        idx_prescan_end(s, NULL, 0, 0, NULL);
        return -1;
    }
    idx_sq8_query_init(z, q, &s->q);
    for (int t = 0; t < nparts; t++)
        idx_prescan_init(&s->parts[t], s->lower + (size_t)t * k, k);
    return 0;
}

int idx_prescan_end(idx_prescan_search *s, const float *q, int dim, int f16, idx_topk *best)
{
    int rc = best ? idx_prescan_finish(s->parts, s->nparts, q, dim, f16, best) : 0;
    for (int t = 0; s->parts && t < s->nparts; t++)
        idx_prescan_free(&s->parts[t]);
    free(s->parts), free(s->lower), free(s->q.qs);
    memset(s, 0, sizeof *s);
    return rc;
}

int idx_prescan_finish(idx_prescan *parts, int nparts, const float *q, int dim, int f16,
                       idx_topk *best)
{
    int k = best->k;
    idx_hit *store = malloc((size_t)k * sizeof *store);
    if (!store)
        return -1;
    idx_topk lower = {store, k, 0};
    for (int t = 0; t < nparts; t++) {
        if (parts[t].oom) {
            free(store);
            return -1;
        }
        for (int i = 0; i < parts[t].lower.n; i++)
            idx_topk_push(&lower, parts[t].lower.h[i].id, parts[t].lower.h[i].score);
    }
    float tau = lower.n == k ? lower.h[0].score : -INFINITY;
    free(store);
    for (int t = 0; t < nparts; t++)
        for (size_t i = 0; i < parts[t].n; i++) {
            const idx_cand *c = &parts[t].cand[i];
            if (c->upper < tau)
                continue;
            float s;
            if (f16)
                idx_dot_rows_f16(q, c->row, 1, dim, &s);
            else
                idx_dot_rows_f32(q, c->row, 1, dim, &s);
            if (idx_topk_wants(best, c->id, s))
                idx_topk_push(best, c->id, s);
        }
    return 0;
}
