/* fusion.c - merging ranked lists (see fusion.h).
 *
 * Every hit of every leg becomes an entry (key, leg, index); sorting the
 * entries by key brings each key's hits together, leg by leg, best first, so
 * one walk over them builds the results without a hash table. A second sort
 * orders the results. */
#include "engine/fusion.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    const char *key;
    int leg, index;
} entry;

static int by_key(const void *a_, const void *b_)
{
    const entry *a = a_, *b = b_;
    int c = strcmp(a->key, b->key);
    if (c)
        return c;
    if (a->leg != b->leg)
        return a->leg < b->leg ? -1 : 1;
    return (a->index > b->index) - (a->index < b->index);
}

static int by_fused(const void *a_, const void *b_)
{
    const fuse_result *a = a_, *b = b_;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    if (a->best_rank != b->best_rank)
        return a->best_rank < b->best_rank ? -1 : 1;
    if (a->best_leg != b->best_leg)
        return a->best_leg < b->best_leg ? -1 : 1;
    return strcmp(a->key, b->key);
}

int fuse_method_parse(const char *s, fuse_method *out)
{
    static const struct { const char *name; fuse_method m; } names[] = {
        {"rrf", FUSE_RRF}, {"weighted", FUSE_WEIGHTED}, {"score", FUSE_SCORE}};
    for (size_t i = 0; s && i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i].name) == 0) {
            *out = names[i].m;
            return 0;
        }
    return -1;
}

const char *fuse_method_name(fuse_method m)
{
    return m == FUSE_WEIGHTED ? "weighted" : m == FUSE_SCORE ? "score" : "rrf";
}

static int check_args(const fuse_leg *legs, int n_legs, fuse_method method, int rrf_k,
                      size_t *total, ds_err *err)
{
    if (n_legs < 1 || n_legs > FUSE_MAX_LEGS)
        return ds_fail(err, DS_EINVAL, "fusion: %d lists (1 to %d)", n_legs, FUSE_MAX_LEGS);
    if (method != FUSE_RRF && method != FUSE_WEIGHTED && method != FUSE_SCORE)
        return ds_fail(err, DS_EINVAL, "fusion: unknown method %d", (int)method);
    if (method == FUSE_RRF && rrf_k < 1)
        return ds_fail(err, DS_EINVAL, "fusion: rrf_k must be at least 1 (got %d)", rrf_k);
    *total = 0;
    for (int l = 0; l < n_legs; l++) {
        if (legs[l].n < 0 || (legs[l].n > 0 && !legs[l].hits))
            return ds_fail(err, DS_EINVAL, "fusion: list %d has no hits array", l);
        if (!(legs[l].weight >= 0) || isinf(legs[l].weight))
            return ds_fail(err, DS_EINVAL, "fusion: list %d's weight must be a number >= 0", l);
        for (int i = 0; i < legs[l].n; i++) {
            if (!legs[l].hits[i].key)
                return ds_fail(err, DS_EINVAL, "fusion: list %d, hit %d has no key", l, i);
            if (isnan(legs[l].hits[i].score))
                return ds_fail(err, DS_EINVAL, "fusion: list %d, hit %d's score is NaN", l, i);
        }
        *total += (size_t)legs[l].n;
    }
    return 0;
}

/* Walk the key-sorted entries: one result per distinct key, holding each
 * leg's first (best) hit of it. Returns the number of results. */
static int group(const entry *ents, size_t n_ents, int n_legs, fuse_result *res)
{
    int n = 0;
    for (size_t i = 0; i < n_ents; i++) {
        if (i == 0 || strcmp(ents[i].key, ents[i - 1].key) != 0) {
            fuse_result *r = &res[n++];
            memset(r, 0, sizeof *r);
            r->key = ents[i].key;
            for (int l = 0; l < FUSE_MAX_LEGS; l++)
                r->index[l] = -1;
        }
        fuse_result *r = &res[n - 1];
        if (r->index[ents[i].leg] < 0) /* sorted by index: the first is the best */
            r->index[ents[i].leg] = ents[i].index;
    }
    (void)n_legs;
    return n;
}

/* Ranks within each leg count only a key's first hit there, so a repeated
 * key does not push the ones after it down. rank_of[l][i] is hit i's rank,
 * or 0 for a repeat. */
static void set_ranks(const fuse_leg *legs, int n_legs, fuse_method method, fuse_result *res,
                      int n_res, int **rank_of)
{
    for (int r = 0; r < n_res; r++)
        for (int l = 0; l < n_legs; l++)
            if (res[r].index[l] >= 0)
                rank_of[l][res[r].index[l]] = -1; /* mark: a first hit */
    for (int l = 0; l < n_legs; l++) {
        int rank = 0;
        for (int i = 0; i < legs[l].n; i++)
            rank_of[l][i] = rank_of[l][i] ? ++rank : 0;
    }
    /* A leg that weighs nothing has no say in ties either (weighted with
     * alpha 0 is the words' order, ties included), unless no leg weighs. */
    int any_weight = 0;
    for (int l = 0; l < n_legs; l++)
        any_weight |= legs[l].weight > 0;
    for (int r = 0; r < n_res; r++) {
        res[r].best_rank = 0;
        res[r].best_leg = n_legs;
        for (int l = 0; l < n_legs; l++) {
            if (res[r].index[l] < 0)
                continue;
            int rank = res[r].rank[l] = rank_of[l][res[r].index[l]];
            if (method != FUSE_SCORE && any_weight && !(legs[l].weight > 0))
                continue;
            if (!res[r].best_rank || rank < res[r].best_rank) {
                res[r].best_rank = rank;
                res[r].best_leg = l;
            }
        }
    }
}

static void score(const fuse_leg *legs, int n_legs, fuse_method method, int rrf_k,
                  fuse_result *res, int n_res)
{
    double lo[FUSE_MAX_LEGS], hi[FUSE_MAX_LEGS];
    for (int l = 0; l < n_legs; l++) {
        lo[l] = INFINITY;
        hi[l] = -INFINITY;
    }
    for (int r = 0; r < n_res; r++)
        for (int l = 0; l < n_legs; l++)
            if (res[r].index[l] >= 0) {
                double s = legs[l].hits[res[r].index[l]].score;
                lo[l] = s < lo[l] ? s : lo[l];
                hi[l] = s > hi[l] ? s : hi[l];
            }
    for (int r = 0; r < n_res; r++) {
        double total = method == FUSE_SCORE ? -INFINITY : 0;
        for (int l = 0; l < n_legs; l++) {
            if (res[r].index[l] < 0)
                continue;
            double s = legs[l].hits[res[r].index[l]].score;
            if (method == FUSE_RRF)
                total += legs[l].weight / (double)(rrf_k + res[r].rank[l]);
            else if (method == FUSE_WEIGHTED)
                total += legs[l].weight * (hi[l] > lo[l] ? (s - lo[l]) / (hi[l] - lo[l]) : 1.0);
            else if (s > total)
                total = s;
        }
        res[r].score = total;
    }
}

int fuse(const fuse_leg *legs, int n_legs, fuse_method method, int rrf_k, fuse_result **out,
         int *n_out, ds_err *err)
{
    *out = NULL;
    *n_out = 0;
    size_t total = 0;
    if (check_args(legs, n_legs, method, rrf_k, &total, err) != 0)
        return -1;
    if (total == 0)
        return 0;
    if (total > (size_t)1 << 24)
        return ds_fail(err, DS_ETOOBIG, "fusion: %zu hits in all (at most %d)", total, 1 << 24);

    entry *ents = malloc(sizeof *ents * total);
    fuse_result *res = malloc(sizeof *res * total);
    int *rank_buf = calloc(total, sizeof *rank_buf);
    int *rank_of[FUSE_MAX_LEGS];
    if (!ents || !res || !rank_buf) {
        free(ents);
        free(res);
        free(rank_buf);
        return ds_fail(err, DS_ENOMEM, "fusion: out of memory for %zu hits", total);
    }
    size_t k = 0;
    for (int l = 0; l < n_legs; l++) {
        rank_of[l] = rank_buf + k;
        for (int i = 0; i < legs[l].n; i++)
            ents[k++] = (entry){legs[l].hits[i].key, l, i};
    }
    qsort(ents, total, sizeof *ents, by_key);
    int n_res = group(ents, total, n_legs, res);
    free(ents);
    set_ranks(legs, n_legs, method, res, n_res, rank_of);
    free(rank_buf);
    score(legs, n_legs, method, rrf_k, res, n_res);
    qsort(res, (size_t)n_res, sizeof *res, by_fused);

    fuse_result *shrunk = realloc(res, sizeof *res * (size_t)n_res);
    *out = shrunk ? shrunk : res;
    *n_out = n_res;
    return 0;
}
