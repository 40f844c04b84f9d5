/* fusion.h - merging ranked lists into one: words and a picture (hybrid
 * search), or several collections searched at once.
 *
 * Each input list, a "leg", is one ranker's answer, best first: the image
 * leg's patents by cosine, the text leg's by BM25, one collection's hits.
 * A result is identified across legs by a key the caller makes (a patent id,
 * or an image's file name for a drawing with no patent); a key may be in any
 * number of legs. Three ways to merge:
 *
 *   FUSE_RRF       Reciprocal Rank Fusion: score = sum over the legs holding
 *                  the key of weight[l] / (rrf_k + rank), rank 1-based. Only
 *                  ranks count, so legs whose scores are not comparable
 *                  (cosine and BM25; two models' cosines) merge fairly. The
 *                  default, as in Elasticsearch, OpenSearch and Milvus 2.4.
 *   FUSE_WEIGHTED  Each leg's scores scaled to 0..1 over the leg's own hits
 *                  (min-max: its best 1, its worst 0; all equal: 1), then
 *                  score = sum of weight[l] * scaled. A key absent from a leg
 *                  gets 0 there, like that leg's worst hit: a leg's depth
 *                  (the window) is where it stops vouching for anything.
 *   FUSE_SCORE     The key's best raw score over the legs: for legs whose
 *                  scores are the same measure (collections of one model).
 *
 * Ties in the fused score are broken by the best rank the key has in any
 * leg that weighs something (FUSE_SCORE: any leg), then by the earlier
 * leg, then by the key's bytes: the order is a function of the inputs
 * alone, so pages never overlap or skip, and a leg weighted 0 changes
 * nothing.
 *
 * Cost: O(N log N) in the total number of hits N; no hashing.
 */
#ifndef DS_FUSION_H
#define DS_FUSION_H

#include "base/error.h"

#define FUSE_MAX_LEGS 16
#define FUSE_DEFAULT_RRF_K 60

typedef enum fuse_method { FUSE_RRF = 0, FUSE_WEIGHTED = 1, FUSE_SCORE = 2 } fuse_method;

typedef struct fuse_hit {
    const char *key;   /* NUL-terminated; compared by bytes */
    double score;      /* the leg's own score, higher is better */
} fuse_hit;

typedef struct fuse_leg {
    const fuse_hit *hits;  /* best first; a key repeated in one leg counts
                              once, at its first (best) place */
    int n;
    double weight;         /* RRF and weighted; ignored by FUSE_SCORE; >= 0 */
} fuse_leg;

typedef struct fuse_result {
    const char *key;               /* points into the legs' hits */
    double score;                  /* fused */
    int rank[FUSE_MAX_LEGS];       /* 1-based rank in each leg, 0: absent */
    int index[FUSE_MAX_LEGS];      /* index into legs[l].hits, -1: absent */
    int best_rank, best_leg;       /* its best rank in a leg that weighs, and
                                      the first such leg (the tie-breaks);
                                      0 and n_legs when none holds it */
} fuse_result;

/* Parse "rrf", "weighted" or "score" (what the API takes). -1 if unknown. */
int fuse_method_parse(const char *s, fuse_method *out);
const char *fuse_method_name(fuse_method m);

/* Merge n_legs legs (1..FUSE_MAX_LEGS). rrf_k (RRF only) must be >= 1.
 * *out receives a malloc'd array, best first, of every distinct key
 * (*n_out of them; NULL and 0 when all legs are empty); free() it. Returns
 * 0, or -1 with err (DS_EINVAL for bad parameters, DS_ENOMEM). */
int fuse(const fuse_leg *legs, int n_legs, fuse_method method, int rrf_k, fuse_result **out,
         int *n_out, ds_err *err);

#endif
